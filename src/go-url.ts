// The part of Go's net/url.Parse and net.SplitHostPort that the kubelet's image matching reads
// (pkg/credentialprovider/keyring.go, protocol §4.1). The kubelet refuses to start when a matchImages
// entry fails url.Parse, and a pattern or auth key that fails it never matches, so credmux must accept
// and reject exactly what Go does. Each rule cites the Go code it copies. Where Go releases differ,
// this follows the strictest, newest one: "[" only at the start of the host (Go 1.24.8/1.25.2) and
// only digits after the first ":" (newer still). Kubelets built with older Go accept hosts like
// "a[b" or "host:1:2", but no image name the kubelet sends has such a host, so those patterns never
// matched anything.

/** Host and path of a URL as Go's url.Parse leaves them; the query, fragment and userinfo are dropped. */
export interface GoURL {
  /** Go's URL.Host: "host", "host:port" or "[ipv6]:port", %-escapes decoded. */
  readonly host: string;
  /** Go's URL.Path, %-decoded ("" when the URL has none). */
  readonly path: string;
}

/** Parses an "https://…" or "http://…" URL as Go's url.Parse does; undefined wherever Go returns an error. */
export function parseGoURL(url: string): GoURL | undefined {
  const result = parse(url);
  return result instanceof GoError ? undefined : result;
}

/** Go's error text for a URL that url.Parse rejects, e.g. `parse "https://%x": invalid URL escape "%x"`; undefined when it parses. */
export function goURLError(url: string): string | undefined {
  const result = parse(url);
  return result instanceof GoError ? result.text : undefined;
}

/** Go's net.SplitHostPort as the kubelet's SplitURL uses it: [host without brackets, port], or [hostport, ""] where Go errors. */
export function splitHostPort(hostport: string): [host: string, port: string] {
  // Go errors without a colon ("missing port in address"); the kubelet then takes the whole Host.
  const whole: [string, string] = [hostport, ""];
  const colon = hostport.lastIndexOf(":");
  if (colon < 0) return whole;
  let host: string;
  let openFrom = 0; // where a "[" would be unexpected
  let closeFrom = 0; // where a "]" would be unexpected
  if (hostport[0] === "[") {
    // Expect the first "]" just before the last ":".
    const end = hostport.indexOf("]");
    if (end < 0 || end + 1 !== colon) return whole;
    host = hostport.slice(1, end);
    openFrom = 1;
    closeFrom = end + 1;
  } else {
    host = hostport.slice(0, colon);
    if (host.includes(":")) return whole; // "too many colons in address"
  }
  if (hostport.includes("[", openFrom) || hostport.includes("]", closeFrom)) return whole;
  return [host, hostport.slice(colon + 1)];
}

/** A url.Parse failure, carrying Go's error text for the kubelet-style message. */
class GoError {
  constructor(readonly text: string) {}
}

function parse(url: string): GoURL | GoError {
  const authorityStart = url.startsWith("https://") ? 8 : url.startsWith("http://") ? 7 : -1;
  if (authorityStart < 0) return new GoError(`parse ${goQuote(url)}: credmux expects an http:// or https:// URL`);
  // url.Parse cuts the fragment off first, and checks only its escapes, after everything else,
  // against the whole URL: a control character after "#" is accepted.
  const hash = url.indexOf("#");
  const beforeFragment = hash < 0 ? url : url.slice(0, hash);
  const fail = (text: string) => new GoError(`parse ${goQuote(beforeFragment)}: ${text}`);
  if (hasControlCharacter(beforeFragment)) return fail("net/url: invalid control character in URL");
  // Everything from the first "?" is the raw query, which Go never validates.
  const question = beforeFragment.indexOf("?");
  const beforeQuery = question < 0 ? beforeFragment : beforeFragment.slice(0, question);
  const slash = beforeQuery.indexOf("/", authorityStart);
  const authority = slash < 0 ? beforeQuery.slice(authorityStart) : beforeQuery.slice(authorityStart, slash);
  const rawPath = slash < 0 ? "" : beforeQuery.slice(slash);

  // The last "@" ends the userinfo, which may itself hold "@" (Go issue 3439). Go checks the host first.
  const at = authority.lastIndexOf("@");
  const host = parseHost(at < 0 ? authority : authority.slice(at + 1));
  if (host instanceof GoError) return fail(host.text);
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    if (!isValidUserinfo(userinfo)) return fail("net/url: invalid userinfo");
    // Go unescapes username and password separately, so an escape cannot run across the ":".
    const colon = userinfo.indexOf(":");
    const escapeProblem = colon < 0
      ? escapeError(userinfo, "userinfo")
      : escapeError(userinfo.slice(0, colon), "userinfo") ?? escapeError(userinfo.slice(colon + 1), "userinfo");
    if (escapeProblem) return fail(escapeProblem);
  }
  const pathProblem = escapeError(rawPath, "path");
  if (pathProblem) return fail(pathProblem);
  if (hash >= 0) {
    const fragmentProblem = escapeError(url.slice(hash + 1), "fragment");
    if (fragmentProblem) return new GoError(`parse ${goQuote(url)}: ${fragmentProblem}`);
  }
  return { host, path: percentDecode(rawPath) };
}

// Go's parseHost: an IP literal in brackets, or a name with an optional ":port".
function parseHost(host: string): string | GoError {
  const open = host.lastIndexOf("[");
  if (open > 0) return new GoError("invalid IP-literal");
  if (open === 0) {
    const close = host.lastIndexOf("]");
    if (close < 0) return new GoError("missing ']' in host");
    const colonPort = host.slice(close + 1);
    if (!isOptionalPort(colonPort)) return new GoError(`invalid port ${goQuote(colonPort)} after host`);
    // RFC 6874: "%25" starts a zone, which may %-escape more than a host may.
    const inside = host.slice(1, close);
    const zone = inside.indexOf("%25");
    const problem = zone < 0
      ? escapeError(inside, "host")
      : escapeError(inside.slice(0, zone), "host") ?? escapeError(inside.slice(zone), "zone");
    if (problem) return new GoError(problem);
    const address = percentDecode(inside);
    // Only an IPv6 address may stand in brackets (Go 1.25.2+, netip.ParseAddr and !Is4).
    const addressProblem = ipLiteralError(address);
    if (addressProblem) return new GoError(addressProblem);
    return `[${address}]${colonPort}`;
  }
  const colon = host.indexOf(":");
  if (colon >= 0) {
    const colonPort = host.slice(colon);
    if (!isOptionalPort(colonPort)) return new GoError(`invalid port ${goQuote(colonPort)} after host`);
  }
  const problem = escapeError(host, "host");
  return problem ? new GoError(problem) : percentDecode(host);
}

// Go's validOptionalPort: "" or ":" followed by digits only (none is fine).
function isOptionalPort(colonPort: string): boolean {
  if (colonPort === "") return true;
  if (colonPort[0] !== ":") return false;
  for (let i = 1; i < colonPort.length; i++) {
    const c = colonPort.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

// Go's stringContainsCTLByte.
function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

// ASCII punctuation Go's shouldEscape lets through unescaped in a host (sub-delims, ":" for the
// port, "[]" for IPv6, and "<>\"" which it tolerates) besides the unreserved "-._~".
const HOST_PUNCTUATION = "-._~!$&'()*+,;=:[]<>\"";

function isHostByte(c: number): boolean {
  if ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) return true;
  return c < 0x80 && HOST_PUNCTUATION.includes(String.fromCharCode(c));
}

// Go's validUserinfo (RFC 3986 §3.2.1, plus "@").
const USERINFO_PUNCTUATION = "-._:~!$&'()*+,;=%@";

function isValidUserinfo(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const alphanumeric = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alphanumeric && !USERINFO_PUNCTUATION.includes(s[i]!)) return false;
  }
  return true;
}

type EscapeMode = "path" | "fragment" | "userinfo" | "host" | "zone";

// The checks of Go's unescape(s, mode), returning Go's error text. Every "%" needs two hex digits;
// a host may %-escape only non-ASCII bytes or "%25", and a zone only bytes a host could hold anyway.
function escapeError(s: string, mode: EscapeMode): string | undefined {
  const hostLike = mode === "host" || mode === "zone";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      const escape = s.slice(i, i + 3);
      const high = hexValue(s.charCodeAt(i + 1));
      const low = hexValue(s.charCodeAt(i + 2));
      if (high < 0 || low < 0) return `invalid URL escape ${goQuote(escape)}`;
      if (mode === "host" && high < 8 && escape !== "%25") return `invalid URL escape ${goQuote(escape)}`;
      const byte = high * 16 + low;
      if (mode === "zone" && escape !== "%25" && byte !== 0x20 && !isHostByte(byte)) return `invalid URL escape ${goQuote(escape)}`;
      i += 2;
    } else if (hostLike && c < 0x80 && !isHostByte(c)) {
      return `invalid character ${goQuote(s[i]!)} in host name`;
    }
  }
  return undefined;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

const ESCAPE_RUN = /(?:%[0-9a-fA-F]{2})+/g;
let utf8Decoder: InstanceType<typeof TextDecoder> | undefined;

// Decodes %xx escapes already checked by escapeError. Go keeps bytes that are not UTF-8 as they are;
// a JS string cannot, so they become U+FFFD. A kubelet image name is ASCII, so neither spelling can
// ever match one, and Go's accept/reject answer is unchanged.
function percentDecode(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    utf8Decoder ??= new TextDecoder();
    const decoder = utf8Decoder;
    return s.replace(ESCAPE_RUN, (run) =>
      decoder.decode(Uint8Array.from(run.slice(1).split("%"), (pair) => Number.parseInt(pair, 16))));
  }
}

// What Go 1.25.2+ accepts in brackets: netip.ParseAddr must succeed and not give an IPv4 address.
// The error text is Go's for IPv4 and the zone; for a malformed IPv6 address Go gives netip's
// detailed reason, which this only summarises.
function ipLiteralError(address: string): string | undefined {
  // netip.ParseAddr picks the syntax from whichever of ".", ":" or "%" comes first.
  for (let i = 0; i < address.length; i++) {
    const c = address[i];
    if (c === ".") return isIPv4(address) ? "invalid IP-literal" : `invalid host: ParseAddr(${goQuote(address)}): unable to parse IP`;
    if (c === ":") return isIPv6(address) ? undefined : `invalid host: ParseAddr(${goQuote(address)}): invalid IPv6 address`;
    if (c === "%") return `invalid host: ParseAddr(${goQuote(address)}): missing IPv6 address`;
  }
  return `invalid host: ParseAddr(${goQuote(address)}): unable to parse IP`;
}

const IPV4_FIELD = /^(?:0|[1-9][0-9]{0,2})$/;

// netip's parseIPv4: four decimal fields of 0-255, no leading zeros.
function isIPv4(s: string): boolean {
  const fields = s.split(".");
  return fields.length === 4 && fields.every((f) => IPV4_FIELD.test(f) && Number(f) <= 255);
}

// netip's parseIPv6: up to eight 1-4 digit hex groups, at most one "::" standing for at least one
// zero group, an optional IPv4 tail in the last 32 bits, and an optional non-empty "%zone".
function isIPv6(input: string): boolean {
  let s = input;
  const percent = s.indexOf("%");
  if (percent >= 0) {
    if (percent === s.length - 1) return false;
    s = s.slice(0, percent);
  }
  let ellipsis = false;
  let groups = 0; // in 16-bit units
  if (s.startsWith("::")) {
    ellipsis = true;
    s = s.slice(2);
    if (s === "") return true;
  }
  while (groups < 8) {
    let digits = 0;
    while (digits < s.length && hexValue(s.charCodeAt(digits)) >= 0) digits++;
    if (digits === 0 || digits > 4) return false;
    // An IPv4 tail starts with decimal digits, which the hex scan above has just read.
    if (s[digits] === ".") {
      if ((!ellipsis && groups !== 6) || groups > 6) return false;
      if (!isIPv4(s)) return false;
      groups += 2;
      s = "";
      break;
    }
    groups++;
    s = s.slice(digits);
    if (s === "") break;
    if (s[0] !== ":" || s.length === 1) return false;
    s = s.slice(1);
    if (s[0] === ":") {
      if (ellipsis) return false;
      ellipsis = true;
      s = s.slice(1);
      if (s === "") break;
    }
  }
  if (s !== "") return false;
  return ellipsis ? groups < 8 : groups === 8;
}

// Go's strconv.Quote for the ASCII range, which is all these messages quote in practice.
/** A string quoted as Go's %q does (strconv.Quote), for error texts that copy Go's. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (c >= 0x20 && c !== 0x7f) out += ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (c === 0x07) out += "\\a";
    else if (c === 0x08) out += "\\b";
    else if (c === 0x0c) out += "\\f";
    else if (c === 0x0b) out += "\\v";
    else out += "\\x" + c.toString(16).padStart(2, "0");
  }
  return out + '"';
}

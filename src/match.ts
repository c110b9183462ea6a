// The kubelet's image matching (pkg/credentialprovider/keyring.go, protocol §4): which matchImages
// entries select a provider, and which auth keys of a response serve an image, in which order.
// It is copied rule for rule, because a pattern that differs from the kubelet's by one case decides
// whether a pull gets credentials at all.
import { parseGoURL, splitHostPort } from "./go-url.js";

/** The auth key whose credentials the kubelet falls back to for Docker Hub images (§4.2). */
const DOCKER_HUB_KEY = "index.docker.io";

/** The kubelet's URLsMatchStr(pattern, target): true when target lies within the pattern (§4.1). */
export function urlsMatchStr(pattern: string, target: string): boolean {
  const glob = toMatchURL(pattern);
  if (glob === undefined) return false;
  const image = toMatchURL(target);
  return image !== undefined && urlsMatch(glob, image);
}

/** Whether a matchImages entry selects image; the entry is used verbatim, so "https://registry.io" never matches (§4.2). */
export function matchImage(pattern: string, image: string): boolean {
  return urlsMatchStr(pattern, image);
}

/** The key BasicDockerKeyring.Add stores an auth key under (§4.2); undefined when the kubelet skips it as invalid. */
export function normalizeAuthKey(key: string): string | undefined {
  const url = parseGoURL(key.startsWith("https://") || key.startsWith("http://") ? key : "https://" + key);
  if (url === undefined) return undefined;
  // The docker client treats /v1/ and /v2/ as the registry root; the kubelet drops their first 3 characters.
  const path = url.path.startsWith("/v2/") || url.path.startsWith("/v1/") ? url.path.slice(3) : url.path;
  return path !== "" && path !== "/" ? url.host + path : url.host;
}

/** The kubelet's isDefaultRegistryMatch: whether image counts as Docker Hub for the index.docker.io fallback (§4.2). */
export function isDefaultRegistryMatch(image: string): boolean {
  const slash = image.indexOf("/");
  const first = slash < 0 ? image : image.slice(0, slash);
  if (first === "") return false;
  if (slash < 0) return true;
  if (first === "docker.io" || first === DOCKER_HUB_KEY) return true;
  // Docker Hub hosts were once prefixed "index."; anything else with a dot or port is another registry.
  return !first.includes(".") && !first.includes(":");
}

/** The credentials BasicDockerKeyring.Lookup(image) returns for these auth entries, in the kubelet's order (§4.4). */
export function lookupCredentials<C>(entries: ReadonlyArray<readonly [key: string, credential: C]>, image: string): C[] {
  const byKey = new Map<string, C[]>();
  for (const [key, credential] of entries) {
    // The kubelet logs `Entry "<k>" in dockercfg invalid` and carries on without it.
    const normalized = normalizeAuthKey(key);
    if (normalized === undefined) continue;
    const list = byKey.get(normalized);
    if (list === undefined) byKey.set(normalized, [credential]);
    else list.push(credential);
  }
  const found: C[] = [];
  const target = toMatchURL(image);
  if (target !== undefined) {
    // Reverse byte order puts "host/path" before "host" and "a.host" before "*.host", but is not
    // "most specific first" in general; the kubelet's order is the contract, not specificity.
    for (const key of [...byKey.keys()].sort(compareUtf8Descending)) {
      const glob = toMatchURL(key);
      if (glob !== undefined && urlsMatch(glob, target)) found.push(...byKey.get(key)!);
    }
  }
  if (found.length > 0) return found;
  const hub = isDefaultRegistryMatch(image) ? byKey.get(DOCKER_HUB_KEY) : undefined;
  return hub === undefined ? [] : [...hub];
}

/** Orders stored keys the way the kubelet's Lookup walks them (reverse byte order), for Array.prototype.sort. */
export function kubeletKeyOrder(a: string, b: string): number {
  return compareUtf8Descending(a, b);
}

/** Whether every image the auth key can serve is also matched by one of patterns; never true for a broader key, sometimes false for a narrower one. */
export function keyWithinPatterns(key: string, patterns: readonly string[]): boolean {
  // A key the kubelet skips serves nothing; false still keeps the promise, and flags the key.
  const normalized = normalizeAuthKey(key);
  if (normalized === undefined) return false;
  const globs = patterns.map(toMatchURL).filter((glob) => glob !== undefined);
  const within = (schemeless: string): boolean => {
    const keyURL = toMatchURL(schemeless);
    return keyURL !== undefined && globs.some((glob) => covers(glob, keyURL));
  };
  if (!within(normalized)) return false;
  // Through the Docker Hub fallback, index.docker.io credentials also serve images no key matched
  // that isDefaultRegistryMatch accepts. Of the names the kubelet sends (§2.9) those are docker.io/…
  // and single-label hosts without a port (localhost/…, Uppercase/…), which only a "*" pattern covers.
  if (normalized === DOCKER_HUB_KEY) return within("docker.io") && within("*");
  return true;
}

/** The part of image before the first "/" (host or host:port): the kubelet's Registry cache key. */
export function registryOf(image: string): string {
  const slash = image.indexOf("/");
  return slash < 0 ? image : image.slice(0, slash);
}

/** A URL reduced to what URLsMatch compares. */
interface MatchURL {
  readonly labels: readonly string[];
  readonly port: string;
  readonly path: string;
}

// The kubelet's ParseSchemelessURL followed by SplitURL.
function toMatchURL(schemeless: string): MatchURL | undefined {
  const url = parseGoURL("https://" + schemeless);
  if (url === undefined) return undefined;
  const [host, port] = splitHostPort(url.host);
  return { labels: host.split("."), port, path: url.path };
}

// The kubelet's URLsMatch: equal port strings, equal label counts, a plain path prefix, and each
// host label matched by filepath.Match. Nothing is lower-cased and ports are not normalised.
function urlsMatch(glob: MatchURL, target: MatchURL): boolean {
  if (glob.port !== target.port) return false;
  if (glob.labels.length !== target.labels.length) return false;
  if (!target.path.startsWith(glob.path)) return false;
  return glob.labels.every((label, i) => filepathMatch(label, target.labels[i]!));
}

// Sound: if key matches an image, so does glob. Its port, label count and path prefix carry over;
// a "*" label matches every host label (none holds "/"), an identical label matches the same labels,
// and a key label without glob syntax matches only itself.
function covers(glob: MatchURL, key: MatchURL): boolean {
  if (glob.port !== key.port || glob.labels.length !== key.labels.length) return false;
  if (!key.path.startsWith(glob.path)) return false;
  return glob.labels.every((label, i) => {
    const keyLabel = key.labels[i]!;
    return label === "*" || label === keyLabel || (!hasGlobSyntax(keyLabel) && filepathMatch(label, keyLabel));
  });
}

// Go sorts the keys' bytes (sort.Strings, then reversed). UTF-16 order agrees with UTF-8 byte order
// except that surrogates (code points from U+10000) must sort after U+E000–U+FFFF.
function compareUtf8Descending(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(y) - utf8Rank(x);
  }
  return b.length - a.length;
}

function utf8Rank(unit: number): number {
  if (unit >= 0xd800 && unit <= 0xdfff) return unit + 0x2000;
  return unit >= 0xe000 ? unit - 0x800 : unit;
}

function hasGlobSyntax(s: string): boolean {
  return s.includes("*") || s.includes("?") || s.includes("[") || s.includes("\\");
}

const NO_MATCH = -1;
const BAD_PATTERN = -2;

// Go's path/filepath.Match on Unix ("/" separates). "?" cannot reach a host label (url.Parse cuts it
// off as the query) but "[" can, from an IPv6 literal without a port, so classes are implemented too.
// A malformed pattern is Go's ErrBadPattern, which URLsMatch turns into "no match".
function filepathMatch(pattern: string, name: string): boolean {
  if (!hasGlobSyntax(pattern)) return pattern === name;
  let p = 0;
  let n = 0;
  while (p < pattern.length) {
    // scanChunk: leading stars, then everything up to the next star outside a class.
    let star = false;
    while (pattern[p] === "*") {
      p++;
      star = true;
    }
    const chunkStart = p;
    let inRange = false;
    scan: for (; p < pattern.length; p++) {
      switch (pattern[p]) {
        case "\\":
          if (p + 1 < pattern.length) p++;
          break;
        case "[":
          inRange = true;
          break;
        case "]":
          inRange = false;
          break;
        case "*":
          if (!inRange) break scan;
          break;
      }
    }
    const chunk = pattern.slice(chunkStart, p);
    const lastChunk = p === pattern.length;
    // A trailing star matches the rest of the name unless it crosses a separator.
    if (star && chunk === "") return !name.includes("/", n);
    let rest = matchChunk(chunk, name, n);
    // The last chunk must use up the name, or a later star position may still match.
    if (rest >= 0 && (rest === name.length || !lastChunk)) {
      n = rest;
      continue;
    }
    if (rest === BAD_PATTERN) return false;
    let advanced = false;
    if (star) {
      for (let i = n; i < name.length && name[i] !== "/"; i++) {
        rest = matchChunk(chunk, name, i + 1);
        if (rest === BAD_PATTERN) return false;
        if (rest >= 0) {
          if (lastChunk && rest < name.length) continue;
          n = rest;
          advanced = true;
          break;
        }
      }
    }
    // Go checks the remaining pattern for ErrBadPattern first, but the answer is "no match" either way.
    if (!advanced) return false;
  }
  return n === name.length;
}

// Go's matchChunk: the index in name after chunk matched at from, NO_MATCH, or BAD_PATTERN.
// Like Go, it reads the whole chunk even after a mismatch, so a malformed chunk always reports.
function matchChunk(chunk: string, name: string, from: number): number {
  let failed = false;
  let i = from;
  let c = 0;
  while (c < chunk.length) {
    if (!failed && i >= name.length) failed = true;
    const ch = chunk[c];
    if (ch === "[") {
      let rune = 0;
      if (!failed) {
        rune = name.codePointAt(i)!;
        i += rune > 0xffff ? 2 : 1;
      }
      c++;
      const negated = chunk[c] === "^";
      if (negated) c++;
      let matched = false;
      let ranges = 0;
      for (;;) {
        if (chunk[c] === "]" && ranges > 0) {
          c++;
          break;
        }
        const lo = classRune(chunk, c);
        if (lo === undefined) return BAD_PATTERN;
        c = lo.next;
        let hi = lo.rune;
        if (chunk[c] === "-") {
          const upper = classRune(chunk, c + 1);
          if (upper === undefined) return BAD_PATTERN;
          c = upper.next;
          hi = upper.rune;
        }
        if (lo.rune <= rune && rune <= hi) matched = true;
        ranges++;
      }
      if (matched === negated) failed = true;
    } else if (ch === "?") {
      if (!failed) {
        if (name[i] === "/") failed = true;
        i += name.codePointAt(i)! > 0xffff ? 2 : 1;
      }
      c++;
    } else {
      if (ch === "\\") {
        c++;
        if (c >= chunk.length) return BAD_PATTERN;
      }
      if (!failed) {
        if (chunk[c] !== name[i]) failed = true;
        i++;
      }
      c++;
    }
  }
  return failed ? NO_MATCH : i;
}

// Go's getEsc: one possibly escaped character of a class, which must not end the chunk.
function classRune(chunk: string, at: number): { rune: number; next: number } | undefined {
  if (at >= chunk.length || chunk[at] === "-" || chunk[at] === "]") return undefined;
  if (chunk[at] === "\\") {
    at++;
    if (at >= chunk.length) return undefined;
  }
  const rune = chunk.codePointAt(at)!;
  const next = at + (rune > 0xffff ? 2 : 1);
  return next >= chunk.length ? undefined : { rune, next };
}

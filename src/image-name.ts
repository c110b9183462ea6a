// The name the kubelet puts in a request's `image`: ParseNormalizedNamed(spec.image).Name() from
// distribution/reference v0.6 (normalize.go, reference.go, regexp.go; protocol §2.9). credmux must
// accept and reject the same names as distribution. Where distribution only says "invalid reference
// format", the error here says which part is wrong, because the operator has to fix that part.
import { CredmuxError } from "./errors.js";

/** A normalised image name, split where the kubelet splits it. */
export interface ImageName {
  /** What the kubelet sends as `image`, e.g. "docker.io/library/nginx": no tag, no digest. */
  readonly name: string;
  /** The part of name before the first "/", the kubelet's Registry cache key, e.g. "docker.io" or "registry.io:5000". */
  readonly registry: string;
  /** The rest of name, e.g. "library/nginx". */
  readonly repository: string;
}

// From regexp.go. The domain is a DNS-ish name or a bracketed IPv6 address, with an optional port.
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_AND_PORT = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
// One period, one or two underscores, or any number of dashes between lowercase alphanumerics.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^\w[\w.-]{0,127}$/;
const TAG_CHARACTERS = /^\w[\w.-]*$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const LOWERCASE_HEX = /^[0-9a-f]+$/;
// An image ID: ParseNormalizedNamed refuses it as a name.
const IMAGE_ID = /^[a-f0-9]{64}$/;
// The algorithms go-digest has registered in the kubelet, and their hex lengths.
const DIGEST_HEX_LENGTHS: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const MAX_TAG_LENGTH = 128;
// reference.go checks the path only, without the domain, since v0.6.0 (distribution/reference#9).
const MAX_PATH_LENGTH = 255;

/** The kubelet's ParseNormalizedNamed(raw).Name(), split into registry and repository; throws a "request" CredmuxError for a name distribution rejects. */
export function normalizeImageName(raw: string): ImageName {
  const fail = (reason: string): never => {
    throw new CredmuxError("request", `invalid image name ${JSON.stringify(raw)}: ${reason}`);
  };
  if (raw === "") fail("image name is empty");
  if (IMAGE_ID.test(raw)) fail("a 64-character hexadecimal string is an image ID, not a repository name");

  const [domain, remainder] = splitDockerDomain(raw);
  // normalize.go checks case on everything before the first ":", tag separator or not.
  const tagSeparator = remainder.indexOf(":");
  const remote = tagSeparator < 0 ? remainder : remainder.slice(0, tagSeparator);
  if (remote.toLowerCase() !== remote) fail("repository name must be lowercase");

  // reference.Parse(domain + "/" + remainder): name [":" tag] ["@" digest], taken apart in that order.
  const reference = `${domain}/${remainder}`;
  const at = reference.indexOf("@");
  const digest = at < 0 ? undefined : reference.slice(at + 1);
  const beforeDigest = at < 0 ? reference : reference.slice(0, at);
  if (digest !== undefined && digest.includes("/")) fail(`"@" may only introduce a digest at the end`);
  // Only the last component can carry a tag; a ":" before the last "/" belongs to a port.
  const tagColon = beforeDigest.indexOf(":", beforeDigest.lastIndexOf("/") + 1);
  const name = tagColon < 0 ? beforeDigest : beforeDigest.slice(0, tagColon);
  const tag = tagColon < 0 ? undefined : beforeDigest.slice(tagColon + 1);

  const components = name.split("/");
  const empty = components.indexOf("");
  if (empty >= 0) {
    if (raw.startsWith("/")) fail(`repository name must not start with "/"`);
    if (empty < components.length - 1) fail(`repository name must not contain "//"`);
    if (tag !== undefined || digest !== undefined) fail("repository name is missing before the tag or digest");
    fail(`repository name must not end with "/"`);
  }
  // distribution reads the first component as the domain when it can, and otherwise reads the
  // whole name as a path (so "foo_bar.io/app" is a valid name with no domain).
  const hasDomain = DOMAIN_AND_PORT.test(components[0]!);
  for (let i = hasDomain ? 1 : 0; i < components.length; i++) {
    const component = components[i]!;
    if (PATH_COMPONENT.test(component)) continue;
    if (i === 0) fail(`invalid registry host ${JSON.stringify(component)}`);
    fail(`invalid path component ${JSON.stringify(component)}: use lowercase letters and digits, separated by ".", "_", "__" or dashes`);
  }
  if (tag !== undefined) checkTag(tag, fail);
  const path = hasDomain ? name.slice(components[0]!.length + 1) : name;
  if (path.length > MAX_PATH_LENGTH) fail(`repository name must not be more than ${MAX_PATH_LENGTH} characters (it has ${path.length})`);
  if (digest !== undefined) checkDigest(digest, fail);

  const slash = name.indexOf("/");
  return { name, registry: name.slice(0, slash), repository: name.slice(slash + 1) };
}

// normalize.go's splitDockerDomain: the registry and the rest, Docker Hub names canonicalised.
function splitDockerDomain(raw: string): [domain: string, remainder: string] {
  const slash = raw.indexOf("/");
  // A single component ("nginx", "nginx:1.25", even "localhost") is an official Docker Hub image.
  if (slash < 0) return ["docker.io", "library/" + raw];
  const first = raw.slice(0, slash);
  let rest = raw.slice(slash + 1);
  let domain: string;
  if (first === "localhost") domain = first;
  else if (first === "index.docker.io") domain = "docker.io";
  else if (first.includes(".") || first.includes(":") || first.toLowerCase() !== first) domain = first;
  else return ["docker.io", raw];
  if (domain === "docker.io" && !rest.includes("/")) rest = "library/" + rest;
  return [domain, rest];
}

function checkTag(tag: string, fail: (reason: string) => never): void {
  if (TAG.test(tag)) return;
  if (tag === "") fail(`tag is empty (nothing after ":")`);
  if (TAG_CHARACTERS.test(tag)) fail(`tag is too long (${tag.length} characters, at most ${MAX_TAG_LENGTH})`);
  fail(`invalid tag ${JSON.stringify(tag)}: use letters, digits, "_", "." and "-", not starting with "." or "-"`);
}

// The reference grammar's digest, then go-digest's Validate, as reference.Parse applies them.
function checkDigest(digest: string, fail: (reason: string) => never): void {
  if (digest === "") fail(`digest is empty (nothing after "@")`);
  if (!DIGEST.test(digest)) fail(`invalid digest format ${JSON.stringify(digest)}: expected <algorithm>:<at least 32 hex digits>`);
  const colon = digest.indexOf(":");
  const algorithm = digest.slice(0, colon);
  const hex = digest.slice(colon + 1);
  const length = Object.hasOwn(DIGEST_HEX_LENGTHS, algorithm) ? DIGEST_HEX_LENGTHS[algorithm] : undefined;
  if (length === undefined) fail(`unsupported digest algorithm ${JSON.stringify(algorithm)} (use sha256, sha384 or sha512)`);
  if (hex.length !== length) fail(`invalid checksum digest length: ${algorithm} takes ${length} hex digits, not ${hex.length}`);
  if (!LOWERCASE_HEX.test(hex)) fail(`invalid checksum digest format: ${algorithm} hex digits must be lowercase`);
}

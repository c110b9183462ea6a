// fast-check generators for what credmux is fed: image names as the kubelet sends them, matchImages
// patterns and auth keys built from the same small vocabulary (so that generated patterns, keys and
// images meet often enough to match), secrets, and hostile input for the decoders.
import * as fc from "fast-check";
import { normalizeImageName } from "../../src/image-name.js";

// ---------------------------------------------------------------------------------------------
// Hosts, ports and paths

/** Labels drawn from a small vocabulary half of the time, so that generated names collide. */
export const hostLabel: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("a", "b", "reg", "registry", "x1", "test", "io", "k8s", "dkr", "ecr"),
  fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,6}[a-z0-9])?$/),
);

/** A label as the kubelet may see it in a host, upper case included (distribution allows it in a domain). */
export const mixedCaseLabel: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: hostLabel },
  { weight: 1, arbitrary: fc.mixedCase(hostLabel) },
);

/** 1 to 4 labels. */
export const hostLabels = (label: fc.Arbitrary<string> = hostLabel, min = 1, max = 4): fc.Arbitrary<string[]> =>
  fc.array(label, { minLength: min, maxLength: max });

/** A port as a string: "" for none, digits otherwise, leading zeros included (":0443" is not ":443"). */
export const port: fc.Arbitrary<string> = fc.oneof(
  fc.constant(""),
  fc.constantFrom("443", "0443", "5000", "05000", "80", "8080", "1"),
  fc.stringMatching(/^[0-9]{1,5}$/),
);

/** A repository path component as distribution allows it: lowercase alphanumerics with separators. */
export const pathComponent: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("team", "team-a", "app", "library", "nginx", "v2", "v1", "x", "a.b", "a_b", "a__b"),
  fc.stringMatching(/^[a-z0-9]{1,6}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,4})?$/),
);

/** A repository path of 1 to 4 components, joined with "/", without the leading "/". */
export const repositoryPath: fc.Arbitrary<string> = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));

/** The parts of an image name, kept apart so properties can vary one of them. */
export interface ImageParts {
  labels: string[];
  port: string;
  path: string;
}

/** host[:port], as an image name and a pattern start. */
export function hostOf(parts: Pick<ImageParts, "labels" | "port">): string {
  return parts.labels.join(".") + (parts.port ? `:${parts.port}` : "");
}

/** host[:port]/path: the name the kubelet would send. */
export function imageOf(parts: ImageParts): string {
  return `${hostOf(parts)}/${parts.path}`;
}

const kubeletNames = new Map<string, boolean>();

/** Whether name is exactly what the kubelet would send for some image (protocol 2.9). */
export function isKubeletName(name: string): boolean {
  // The kubelet's names are host[:port]/lowercase-path: anything else is refused without the parser.
  if (!/^[A-Za-z0-9.:[\]-]+\/[a-z0-9._/-]+$/.test(name)) return false;
  let known = kubeletNames.get(name);
  if (known === undefined) {
    // Remembered: properties ask about the same few thousand names over and over, and a rejected
    // name costs an Error with its stack.
    try {
      known = normalizeImageName(name).name === name;
    } catch {
      known = false;
    }
    if (kubeletNames.size > 100_000) kubeletNames.clear();
    kubeletNames.set(name, known);
  }
  return known;
}

/**
 * Image names as the kubelet sends them: a registry host of 1 to 4 labels (a single label only
 * with a port, or "localhost", or with an upper-case letter, as distribution requires), an
 * optional port, and a lowercase repository path.
 */
export const imageParts = (label: fc.Arbitrary<string> = hostLabel): fc.Arbitrary<ImageParts> =>
  fc.record({ labels: hostLabels(label), port, path: repositoryPath })
    .filter((parts) => isKubeletName(imageOf(parts)));

/** Docker Hub names, which the kubelet sends as docker.io/...; often the odd case of the matcher. */
export const dockerHubImage: fc.Arbitrary<string> = fc.oneof(
  repositoryPath.map((path) => `docker.io/library/${path.split("/")[0]}`),
  repositoryPath.filter((path) => path.includes("/")).map((path) => `docker.io/${path}`),
);

/** Any image name the kubelet could send, parts and all. */
export const kubeletImage = (label: fc.Arbitrary<string> = hostLabel): fc.Arbitrary<string> =>
  fc.oneof({ weight: 5, arbitrary: imageParts(label).map(imageOf) }, { weight: 1, arbitrary: dockerHubImage });

// ---------------------------------------------------------------------------------------------
// Patterns and keys

/** A label made into a filepath.Match glob: "*", a prefix or suffix with "*", or the label itself. */
export const globbedLabel = (labelText: string): fc.Arbitrary<string> => fc.oneof(
  fc.constant(labelText),
  fc.constant("*"),
  fc.nat({ max: labelText.length }).map((n) => `${labelText.slice(0, n)}*`),
  fc.nat({ max: labelText.length }).map((n) => `*${labelText.slice(n)}`),
  fc.nat({ max: labelText.length }).map((n) => `${labelText.slice(0, n)}*${labelText.slice(n + 1)}`),
);

/** Each label of a host, globbed or kept, so that the pattern matches that host. */
export const globbedHost = (labels: readonly string[]): fc.Arbitrary<string[]> => fc.tuple(...labels.map(globbedLabel));

/** A pattern's path: "" or a string prefix of "/" + path (cut anywhere, mid-component included). */
export const pathPrefixOf = (path: string): fc.Arbitrary<string> =>
  fc.nat({ max: path.length + 1 }).map((n) => (n === 0 ? "" : `/${path}`.slice(0, n)));

/** A matchImages pattern (or a stored auth key) that matches the image made of these parts. */
export const patternMatching = (parts: ImageParts): fc.Arbitrary<string> =>
  fc.tuple(globbedHost(parts.labels), pathPrefixOf(parts.path))
    .map(([labels, prefix]) => `${labels.join(".")}${parts.port ? `:${parts.port}` : ""}${prefix}`);

/** A matchImages pattern over the shared vocabulary, matching whatever images it happens to match. */
export const anyPattern: fc.Arbitrary<string> = imageParts().chain((parts) => patternMatching(parts));

/** The ways docker config files and providers spell one stored key (protocol 4.2): scheme, userinfo, /v1/ and /v2/, a trailing "/". */
export const spelledKey = (stored: string): fc.Arbitrary<string> => {
  const slash = stored.indexOf("/");
  const host = slash < 0 ? stored : stored.slice(0, slash);
  const path = slash < 0 ? "" : stored.slice(slash);
  return fc.record({
    scheme: fc.constantFrom("", "https://", "http://"),
    user: fc.constantFrom("", "user@", "user:pw@"),
    root: fc.constantFrom("", "/v1", "/v2"),
    slash: fc.boolean(),
    suffix: fc.constantFrom("", "?query=1", "#fragment"),
  }).map(({ scheme, user, root, slash: trailing, suffix }) => {
    // userinfo needs the "//" of a scheme in front only for readers; normalizeAuthKey adds https:// itself.
    const rootPath = root && path === "" ? `${root}/` : root ? `${root}${path}` : path === "" && trailing ? "/" : path;
    return `${scheme}${user}${host}${rootPath}${suffix}`;
  });
};

/** A stored key (the kubelet's normalised form): host[:port][/path], no /v1/ or /v2/ root, no %, ? or #. */
export const storedKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: imageParts(mixedCaseLabel).chain((parts) => patternMatching(parts)) },
  { weight: 1, arbitrary: fc.constantFrom("index.docker.io", "docker.io", "*", "*.*", "localhost", "docker.io/library") },
).filter((key) => !/^[^/]*\/v[12]\//.test(key) && !/[%?#]/.test(key) && !key.endsWith("/"));

/** Keys a provider might put in its auth map: stored keys spelled any way, plus ones the kubelet cannot parse or would read differently. */
export const providerAuthKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: storedKey.chain(spelledKey) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "a b.test", "[bad]", "%zz.test", "reg.test:port", "https://https://reg.test", "reg.test/%3Fq",
      "reg.test/v2/v2/team", "reg.test/a%2520b", "", ":5000", "*.test", "*", "https://index.docker.io/v1/",
    ),
  },
);

/**
 * Spellings of a stored key that the kubelet's normalisation does not map to a fixed point: a
 * doubled /v2/ root, or a %-escape that decodes to a "?" or to another escape.
 */
export const unsettledKey = (stored: string): fc.Arbitrary<string> => {
  const slash = stored.indexOf("/");
  const host = slash < 0 ? stored : stored.slice(0, slash);
  const path = slash < 0 ? "" : stored.slice(slash);
  return fc.constantFrom(`${host}/v2/v2${path || "/"}`, `${host}${path}/x%3Fy`, `${host}${path}/a%2520b`);
};

/**
 * A stored key spelled with 0 to 3 /v1/ or /v2/ roots before its path, as docker configs write
 * registry URLs: the kubelet drops the first root only (protocol 4.2), so with two or more the key
 * it stores still starts with one.
 */
export const rootedKey = (stored: string): fc.Arbitrary<string> => {
  const slash = stored.indexOf("/");
  const host = slash < 0 ? stored : stored.slice(0, slash);
  const path = slash < 0 ? "" : stored.slice(slash);
  return fc.array(fc.constantFrom("/v1", "/v2"), { minLength: 1, maxLength: 3 })
    .map((roots) => `${host}${roots.join("")}${path === "" ? "/" : path}`);
};

// ---------------------------------------------------------------------------------------------
// Mirrors

/** A mirror rule as the config holds it, with the parts it was made of. */
export interface GeneratedMirrorRule {
  from: string;
  to: string;
  fromHost: string;
  toHost: string;
}

/**
 * Mirror rules with and without paths on either side: `from` Docker Hub or another registry, its
 * path empty, a repository prefix (cut mid-component too), a /v1/ or /v2/ root, with or without a
 * trailing "/"; `to` a registry without globs, with or without a path and a trailing "/".
 */
export const mirrorRule: fc.Arbitrary<GeneratedMirrorRule> = fc.record({
  fromHost: fc.constantFrom("docker.io", "quay.test", "hub.test:5000"),
  fromPath: fc.constantFrom("", "/", "/library", "/library/", "/team", "/team/", "/lib", "/v2/", "/v2/team", "/v1/v2/team", "/acme/sub"),
  toHost: fc.constantFrom("reg.test", "mirror.test:5000", "quay.test"),
  toPath: fc.constantFrom("", "/", "/mirror", "/mirror/", "/cache/hub", "/v2/m", "/mirror/team"),
}).map(({ fromHost, fromPath, toHost, toPath }) => ({ from: `${fromHost}${fromPath}`, to: `${toHost}${toPath}`, fromHost, toHost }));

/** Repository paths that meet the generated mirror paths, cut where they differ by one character or component. */
export const mirrorTail: fc.Arbitrary<string> = fc.constantFrom(
  "library/nginx", "team/app", "teamx/app", "team/sub/app", "acme/app", "acme/sub/app", "v2/team/app", "lib/app", "other/app",
);

/** Key paths for a mirror's registry: around its `to` path and the tails, so that they serve some mirrored images and not others. */
export const mirrorKeyPath = (toPath: string): fc.Arbitrary<string> => {
  const trimmed = toPath.replace(/\/+$/, "");
  return fc.oneof(
    fc.constantFrom("", "/mirror", "/mirrorx", "/cache", "/other", "/m"),
    fc.tuple(mirrorTail, fc.nat({ max: 20 })).map(([tail, cut]) => `${trimmed}/${tail}`.slice(0, trimmed.length + 1 + (cut % (tail.length + 1)))),
  ).map((path) => (path === "/" ? "" : path));
};

/** A credential with a distinct, recognisable password. */
export const credential: fc.Arbitrary<{ username: string; password: string }> = fc.record({
  username: fc.constantFrom("user", "AWS", "oauth2accesstoken", "<token>", "00000000-0000-0000-0000-000000000000"),
  password: fc.uuid().map((id) => `pw-${id}`),
});

// ---------------------------------------------------------------------------------------------
// Secrets and hostile input

const SECRET_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=_-.~:@!$&'()*,;% ";

/** A secret of these characters: long enough to be masked (SecretSet ignores values under 4), recognisable. */
const secretOf = (characters: string): fc.Arbitrary<string> => fc.tuple(
  fc.constantFrom("s3cr3t", "tok", "pw", "key", "AKIA"),
  fc.string({ unit: fc.constantFrom(...characters), minLength: 6, maxLength: 40 }),
  fc.uuid(),
).map(([prefix, middle, id]) => `${prefix}-${middle}-${id.slice(0, 8)}`);

/** A secret with the punctuation base64, URLs and docker config files treat specially, but none that JSON escapes. */
export const secret: fc.Arbitrary<string> = secretOf(SECRET_CHARACTERS);

/** A secret that also holds characters JSON escapes ('"' and '\\'), as generated passwords do. */
export const jsonEscapedSecret: fc.Arbitrary<string> = secretOf(`${SECRET_CHARACTERS}"\\`).filter((value) => /["\\]/.test(value));

/** Every form of a secret that could show it in a log line: raw, JSON-escaped, and its base64. */
export function secretForms(value: string, username?: string): string[] {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1)]);
  if (username !== undefined) forms.add(Buffer.from(`${username}:${value}`).toString("base64"));
  return [...forms];
}

/** Keys that have broken JavaScript programs when copied from input into objects. */
export const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "__defineGetter__", "hasOwnProperty", "toString", "valueOf"] as const;

/** Object keys, prototype-pollution keys included. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...POLLUTION_KEYS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 8 }) },
);

/** JSON values with hostile keys at any depth, as a parsed document. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true }).map((n) => (Number.isFinite(n) ? n : 0)),
    fc.integer(),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.array(fc.tuple(hostileKey, tie("value")), { maxLength: 4 }).map(jsonObject),
  ),
})).value;

/** An object with exactly these own keys, "__proto__" included, as JSON.parse would make it. */
export function jsonObject(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** JSON text for a value, with "__proto__" keys kept (JSON.stringify keeps own properties). */
export function jsonText(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

/** Nesting far beyond anything a real document has: arrays or objects, depth 1,000 to 100,000. */
export const deepJsonText: fc.Arbitrary<string> = fc.tuple(fc.integer({ min: 1000, max: 100_000 }), fc.boolean(), fc.boolean()).map(([depth, objects, closed]) => {
  const open = objects ? '{"a":' : "[";
  const close = objects ? "}" : "]";
  return open.repeat(depth) + "1" + (closed ? close.repeat(depth) : "");
});

/** Random bytes read as UTF-8, as a broken pipe or a wrong file would give. */
export const randomBytesText: fc.Arbitrary<string> = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes).toString("utf8"));

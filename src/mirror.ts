// Registry mirrors (config `mirrors`): a containerd mirror sends pulls of `from` images to `to`
// (an ECR pull-through cache, a Harbor proxy project), with the credentials the kubelet passes for
// the `from` image. So credmux answers a `from` image with the credentials of the `to` registry,
// each under the key for exactly the `from` images whose mirrored names the mirror's key matches.
// Any provider can be a mirror target.
import type { MirrorRule } from "./config.js";
import { parseGoURL } from "./go-url.js";
import type { Logger } from "./log.js";
import { kubeletKeyOrder, matchImage, normalizeAuthKey, registryOf } from "./match.js";
import type { AuthEntry } from "./protocol.js";

/** The first rule whose `from` pattern matches the image at a path-component boundary, if any. */
export function findMirror(mirrors: readonly MirrorRule[], image: string): MirrorRule | undefined {
  // `from: docker.io/team` is the team's repositories: docker.io/teamx/app, which the kubelet's
  // string-prefix match also selects, would otherwise be mirrored to a name that is not under `to`.
  return mirrors.find((rule) => matchImage(rule.from, image) && /^(?:$|\/)/.test(pathAfterFrom(rule, image)));
}

/** The image as the mirror names it: `to`, then what follows `from` in the image's path (a trailing "/" on either side is the same rule). */
export function mirroredImageName(rule: MirrorRule, image: string): string {
  return `${trimmedTo(rule)}${pathAfterFrom(rule, image)}`;
}

/** Whether image is exactly the repository `from` names (not one below it). */
export function isFromRepository(rule: MirrorRule, image: string): boolean {
  return pathAfterFrom(rule, image) === "";
}

/** Whether the rule covers part of a registry only, so that its answer must not be reused registry-wide. */
export function mirrorHasPath(rule: MirrorRule): boolean {
  const { path } = fromURL(rule);
  return path !== "" && path !== "/";
}

/**
 * The auth key that serves exactly the `from` images whose mirrored names the mirror's key matches
 * (`reg.test/mirror/library` behind `docker.io` → `reg.test/mirror` is `docker.io/library`).
 * mirrorKey is a stored key (a fixed point of normalizeAuthKey) for the mirror's registry.
 * "none" when it matches no mirrored image; "unsayable" when the kubelet would store the key that
 * says it as another (a `from` path starting /v1/ or /v2/, a %-escape): no answer can hold it.
 * A key for the whole rule is said for the repositories below `from` ("docker.io/team/"), except
 * in the answer for the repository `from` names itself (forFromRepository), which no narrower key
 * matches: that answer is Image-keyed (the rule has a path), so its key reaches no sibling.
 */
export function fromSideKey(rule: MirrorRule, mirrorKey: string, forFromRepository = false): string | "none" | "unsayable" {
  const from = fromURL(rule);
  const fromPath = withoutTrailingSlashes(from.path);
  const below = fromPath === "" ? "" : `${fromPath}/`;
  const toBase = trimmedTo(rule);
  const toPath = toBase.slice(registryOf(toBase).length);
  const keyPath = mirrorKey.slice(registryOf(mirrorKey).length);
  // A mirrored image's path is toPath + rest, where the from image's path is fromPath + rest, and
  // rest is "" or starts with "/" (findMirror): the key matches it when toPath + rest starts with keyPath.
  let path: string;
  if (toPath.startsWith(keyPath)) {
    path = forFromRepository ? fromPath : below;
  } else if (keyPath.startsWith(toPath)) {
    // Only images below `from` (rest starts with "/") can match a key longer than toPath.
    const wanted = fromPath + keyPath.slice(toPath.length);
    if (below.startsWith(wanted)) path = below;
    else if (wanted.startsWith(below)) path = wanted;
    else return "none";
  } else {
    return "none";
  }
  // Every image path starts with "/": a path of "/" is the whole host.
  const key = path === "" || path === "/" ? from.host : `${from.host}${path}`;
  return normalizeAuthKey(key) === key ? key : "unsayable";
}

// The image's path after the path of `from` (without its trailing "/"s): "" or "/..." at a component boundary.
function pathAfterFrom(rule: MirrorRule, image: string): string {
  return image.slice(registryOf(image).length).slice(withoutTrailingSlashes(fromURL(rule).path).length);
}

// Host and decoded path of `from` as the kubelet's matcher reads it (the config accepts only parseable patterns).
function fromURL(rule: MirrorRule): { host: string; path: string } {
  return parseGoURL(`https://${rule.from}`) ?? { host: registryOf(rule.from), path: "" };
}

function trimmedTo(rule: MirrorRule): string {
  return withoutTrailingSlashes(rule.to);
}

function withoutTrailingSlashes(text: string): string {
  return text.replace(/\/+$/, "");
}

/**
 * The mirror's answer (stored keys for the mirror's registry) as an answer for the `from` images:
 * each key under fromSideKey. Keys that serve no mirrored image are left out; where several serve
 * the same from images, one JSON key holds the credential the kubelet would try first among them.
 */
export function fromSideAuth(rule: MirrorRule, image: string, mirrorAuth: Readonly<Record<string, AuthEntry>>, log: Logger): Record<string, AuthEntry> {
  const auth: Record<string, AuthEntry> = {};
  const forFromRepository = isFromRepository(rule, image);
  for (const mirrorKey of Object.keys(mirrorAuth).sort(kubeletKeyOrder)) {
    const key = fromSideKey(rule, mirrorKey, forFromRepository);
    if (key === "none") continue;
    if (key === "unsayable") {
      log.warn("dropping a mirror key: the from images it serves have no auth key the kubelet would store as such", { mirrorKey, from: rule.from, to: rule.to });
      continue;
    }
    if (!Object.hasOwn(auth, key)) auth[key] = mirrorAuth[mirrorKey]!;
  }
  return auth;
}

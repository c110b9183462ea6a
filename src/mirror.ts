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

/** The first rule whose `from` pattern matches the image, if any. */
export function findMirror(mirrors: readonly MirrorRule[], image: string): MirrorRule | undefined {
  return mirrors.find((rule) => matchImage(rule.from, image));
}

/** The image as the mirror names it: `to`, then what follows `from` in the image's path (a trailing "/" on either side is the same rule). */
export function mirroredImageName(rule: MirrorRule, image: string): string {
  const imagePath = image.slice(registryOf(image).length);
  return `${trimmedTo(rule)}${imagePath.slice(withoutTrailingSlashes(fromURL(rule).path).length)}`;
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
 */
export function fromSideKey(rule: MirrorRule, mirrorKey: string): string | "none" | "unsayable" {
  const from = fromURL(rule);
  const toBase = trimmedTo(rule);
  const toPath = toBase.slice(registryOf(toBase).length);
  const keyPath = mirrorKey.slice(registryOf(mirrorKey).length);
  // A mirrored image's path is toPath + rest, where the from image's path is trimmedFromPath + rest
  // (and starts with from.path): the key matches it when toPath + rest starts with keyPath.
  let path: string;
  if (toPath.startsWith(keyPath)) {
    path = from.path;
  } else if (keyPath.startsWith(toPath)) {
    const wanted = withoutTrailingSlashes(from.path) + keyPath.slice(toPath.length);
    if (from.path.startsWith(wanted)) path = from.path;
    else if (wanted.startsWith(from.path)) path = wanted;
    else return "none";
  } else {
    return "none";
  }
  // Every image path starts with "/": a path of "/" is the whole host.
  const key = path === "" || path === "/" ? from.host : `${from.host}${path}`;
  return normalizeAuthKey(key) === key ? key : "unsayable";
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
export function fromSideAuth(rule: MirrorRule, mirrorAuth: Readonly<Record<string, AuthEntry>>, log: Logger): Record<string, AuthEntry> {
  const auth: Record<string, AuthEntry> = {};
  for (const mirrorKey of Object.keys(mirrorAuth).sort(kubeletKeyOrder)) {
    const key = fromSideKey(rule, mirrorKey);
    if (key === "none") continue;
    if (key === "unsayable") {
      log.warn("dropping a mirror key: the from images it serves have no auth key the kubelet would store as such", { mirrorKey, from: rule.from, to: rule.to });
      continue;
    }
    if (!Object.hasOwn(auth, key)) auth[key] = mirrorAuth[mirrorKey]!;
  }
  return auth;
}

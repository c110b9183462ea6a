// Registry mirrors (config `mirrors`): a containerd mirror sends pulls of `from` images to `to`
// (an ECR pull-through cache, a Harbor proxy project), with the credentials the kubelet passes for
// the `from` image. So credmux answers a `from` image with the credentials of the `to` registry,
// keyed by the `from` registry. Any provider can be a mirror target.
import type { MirrorRule } from "./config.js";
import { parseGoURL } from "./go-url.js";
import { matchImage, registryOf } from "./match.js";

/** The first rule whose `from` pattern matches the image, if any. */
export function findMirror(mirrors: readonly MirrorRule[], image: string): MirrorRule | undefined {
  return mirrors.find((rule) => matchImage(rule.from, image));
}

/** The image as the mirror names it: `to`, then what follows `from` in the image's path. */
export function mirroredImageName(rule: MirrorRule, image: string): string {
  const imagePath = image.slice(registryOf(image).length);
  const fromPath = parseGoURL(`https://${rule.from}`)?.path ?? "";
  return `${rule.to.replace(/\/+$/, "")}${imagePath.slice(fromPath.length)}`;
}

/** The auth key the mirrored credential is answered under: the `from` registry (and path, if it has one). */
export function mirrorKey(rule: MirrorRule): string {
  return rule.from.replace(/\/+$/, "");
}

/** Whether the rule covers part of a registry only, so that its answer must not be reused registry-wide. */
export function mirrorHasPath(rule: MirrorRule): boolean {
  return (parseGoURL(`https://${rule.from}`)?.path ?? "") !== "";
}

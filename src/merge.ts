// Merge: the answers of the providers asked, each already cut to the keys it may give (key-scope.ts),
// into the one response the kubelet reads: the provider earlier in the config wins a key, the
// shortest lifetime among the contributors is the cacheDuration, and the answer's cacheKeyType is
// the narrowest reuse that cannot carry a credential to an image it is not for.
import type { Config, MirrorRule, ProviderConfig } from "./config.js";
import type { ProviderOutcome } from "./dispatch.js";
import type { ImageName } from "./image-name.js";
import { BROADER, hostPortOf } from "./key-scope.js";
import type { Logger } from "./log.js";
import { matchImage } from "./match.js";
import { fromSideAuth, mirrorHasPath, mirroredImageName } from "./mirror.js";
import type { AuthEntry, CacheKeyType, KubeletRequest, KubeletResponse } from "./protocol.js";

/** What the merge needs of the request: the image as asked and as answered (a mirror's), and the rule. */
export interface MergeInput {
  request: KubeletRequest;
  /** The image the kubelet asked for. */
  requested: ImageName;
  /** The image whose providers answered: the mirror's, when a rule matched. */
  image: ImageName;
  rule: MirrorRule | undefined;
  config: Config;
  log: Logger;
}

/** One response from the outcomes of the providers asked, none of which failed. */
export function mergeAnswers(asked: ProviderOutcome[], { request, requested, image, rule, config, log }: MergeInput): KubeletResponse {
  let auth: Record<string, AuthEntry> = {};
  const taken = new Set<string>();
  let cacheDurationMs = Number.POSITIVE_INFINITY;
  for (const outcome of asked) {
    let contributed = false;
    for (const [key, credential] of outcome.credentials) {
      // One JSON object cannot hold two credentials for one key: the provider earlier in the config wins.
      if (taken.has(key)) {
        log.debug("a key is shadowed by an earlier provider", { provider: outcome.provider.name, key });
        continue;
      }
      taken.add(key);
      auth[key] = credential;
      contributed = true;
    }
    if (contributed) cacheDurationMs = Math.min(cacheDurationMs, outcome.lifetimeMs!);
  }
  let cacheKeyType = answerCacheKeyType(config.providers, image, asked);
  if (rule) {
    // The runtime sends the `from` image's credentials to the mirror: each key of the mirror's
    // registry is answered for exactly the `from` images it serves there, as a path-scoped key is without mirrors.
    if (image.name === mirroredImageName(rule, requested.name)) {
      auth = fromSideAuth(rule, requested.name, auth, log);
    } else {
      // Image-name normalisation changed the mirrored name (`to: docker.io` and a one-part path):
      // which from images a mirror key serves is then unknown, so none is answered.
      log.warn("answering no credentials: the mirrored image name is not the mirror's to followed by the image's path", { image: requested.name, mirror: image.name, to: rule.to });
      auth = {};
    }
    // Reused registry-wide, the answer would reach images outside the rule, or ones another rule sends elsewhere.
    const otherRule = config.mirrors.some((other) => other !== rule && matchImage(hostPortOf(other.from), requested.registry));
    if (mirrorHasPath(rule) || otherRule) cacheKeyType = "Image";
  } else if (config.mirrors.some((other) => matchImage(hostPortOf(other.from), requested.registry))) {
    // Part of this registry is mirrored: reused registry-wide, this answer would reach the mirrored part.
    cacheKeyType = "Image";
  }
  const hasCredentials = Object.keys(auth).length > 0;
  return {
    apiVersion: request.apiVersion,
    cacheKeyType,
    // No credentials: "0s", so that the kubelet asks again rather than caching the empty answer.
    cacheDurationMs: hasCredentials ? cacheDurationMs : 0,
    auth,
  };
}

/** The narrowest reuse the answer allows: Registry only if it is the same for every repository of the registry. */
function answerCacheKeyType(providers: readonly ProviderConfig[], image: ImageName, asked: ProviderOutcome[]): CacheKeyType {
  if (asked.some((outcome) => outcome.result?.cacheKeyType === "Image")) return "Image";
  // A provider scoped to part of this registry (matchImages with a path) would be asked for some of
  // its repositories and not others; the kubelet reusing this answer registry-wide would be wrong.
  for (const provider of providers) {
    const touches = provider.matchImages.some((pattern) => matchImage(hostPortOf(pattern), image.registry));
    const coversAll = provider.matchImages.some((pattern) => matchImage(pattern, image.registry));
    if (touches && !coversAll) return "Image";
  }
  // A path-scoped key for another repository of this registry must reach the kubelet too, or the
  // answer must not be reused for that repository: outcomes keep every key of the registry, so
  // only a path-scoped key dropped for breadth would break this.
  if (asked.some((outcome) => outcome.dropped.some((drop) => drop.why === BROADER && hostPortOf(drop.key) !== drop.key))) return "Image";
  return "Registry";
}

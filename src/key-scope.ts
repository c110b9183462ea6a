// The keys a provider may give for one image: parseable by the kubelet and stored by it as answered,
// for the image's registry, and within the provider's matchImages (a registry-wide key from a
// provider selected by a path is narrowed to that path). A key outside these could hand the
// credential to another registry or repository; it is dropped, with the reason, and a warning.
import type { ProviderConfig } from "./config.js";
import type { DroppedKey, ProviderOutcome } from "./dispatch.js";
import type { ImageName } from "./image-name.js";
import type { Logger } from "./log.js";
import { keyWithinPatterns, normalizeAuthKey, registryOf, urlsMatchStr } from "./match.js";
import type { ProviderResult } from "./provider.js";

const DOCKER_HUB_KEY = "index.docker.io";

/** Why a key broader than the provider's matchImages was dropped (merge.ts reads it). */
export const BROADER = "broader than the provider's matchImages";

/** Keeps the keys a provider may give for this image: parseable, within its matchImages, for this registry. */
export function filterKeys(result: ProviderResult, provider: ProviderConfig, image: ImageName, matchedPattern: string, log: Logger): Pick<ProviderOutcome, "credentials" | "dropped"> {
  const credentials: ProviderOutcome["credentials"] = [];
  const dropped: DroppedKey[] = [];
  const kept = new Set<string>();
  for (const [original, credential] of Object.entries(result.auth)) {
    const stored = normalizeAuthKey(original);
    if (stored === undefined) {
      dropped.push({ key: original, why: "the kubelet cannot parse it" });
      log.warn("dropping an auth key the kubelet cannot parse", { provider: provider.name, key: original });
      continue;
    }
    const normalized = canonicalDockerHubKey(stored);
    // The kubelet normalises the key it reads once: answered as the operator's key is stored, this
    // one would be normalised again into another key ("reg.test/v2/v2/team" is stored as
    // "reg.test/v2/team", which answered would become "reg.test/team"), serving other images.
    const reread = normalizeAuthKey(normalized);
    if (reread !== normalized) {
      dropped.push({ key: original, why: `the kubelet stores it as "${stored}", and would store that answered key as ${reread === undefined ? "nothing" : `"${reread}"`}` });
      log.warn("dropping an auth key the kubelet would store as another key than credmux can answer", { provider: provider.name, key: original, storedAs: stored });
      continue;
    }
    // Keys for other registries are of no use to this image, and must not travel with its answer.
    if (!urlsMatchStr(hostPortOf(normalized), image.registry)) {
      dropped.push({ key: normalized, why: `for another registry than ${image.registry}` });
      continue;
    }
    const narrowed = keyWithinPatterns(normalized, provider.matchImages) ? normalized : narrowToPattern(normalized, image, matchedPattern);
    if (narrowed !== normalized && narrowed !== undefined) {
      log.debug("narrowed an auth key to the path of the matchImages pattern that selected the provider", { provider: provider.name, key: normalized, narrowed });
    }
    if (narrowed === undefined) {
      dropped.push({ key: normalized, why: BROADER });
      log.warn("dropping an auth key broader than the provider's matchImages: it could hand the credential to another registry", {
        provider: provider.name, key: normalized, matchImages: provider.matchImages,
      });
      continue;
    }
    if (kept.has(narrowed)) continue;
    kept.add(narrowed);
    credentials.push([narrowed, credential]);
  }
  return { credentials, dropped };
}

/**
 * A registry-wide key from a provider selected by a path-scoped pattern (`registry.io/team-a`) is
 * answered as that scope instead (`registry.io/team-a`): narrower than what the provider gave, and
 * exactly what the operator configured it for. undefined when narrowing would not make it fit.
 */
function narrowToPattern(key: string, image: ImageName, pattern: string): string | undefined {
  const patternPath = pattern.slice(hostPortOf(pattern).length);
  // Only breadth in the path is narrowed; a key broader in its host (`*.io`) is a misconfiguration.
  if (patternPath === "" || hostPortOf(key) !== image.registry || !urlsMatchStr(key, image.name)) return undefined;
  const candidate = `${image.registry}${patternPath}`;
  const keyPath = key.slice(hostPortOf(key).length);
  return candidate.length > key.length && patternPath.startsWith(keyPath) && urlsMatchStr(candidate, image.name) && keyWithinPatterns(candidate, [pattern]) ? candidate : undefined;
}

/** The kubelet uses `index.docker.io` credentials for Docker Hub images, which it names docker.io/...; say docker.io directly. */
function canonicalDockerHubKey(key: string): string {
  if (key === DOCKER_HUB_KEY || key.startsWith(`${DOCKER_HUB_KEY}/`)) return `docker.io${key.slice(DOCKER_HUB_KEY.length)}`;
  return key;
}

/** The host[:port] part of a pattern or key. */
export function hostPortOf(pattern: string): string {
  return registryOf(pattern);
}

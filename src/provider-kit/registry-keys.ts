// The auth keys under which a provider answers a credential that serves a whole registry (a cloud
// registry token): the registry itself where the provider's matchImages cover it, and each
// path-scoped pattern that matches the image, so that the answer holds for every repository the
// provider serves there and nothing wider (the core drops broader keys).
import { keyWithinPatterns, matchImage } from "../match.js";
import type { CredentialRequest } from "../provider.js";

/** The keys for a registry-wide credential, as far as matchImages allow. */
export function registryWideKeys(request: Pick<CredentialRequest, "registry" | "image">, matchImages: readonly string[]): string[] {
  const keys = keyWithinPatterns(request.registry, matchImages) ? [request.registry] : [];
  for (const pattern of matchImages) {
    if (pattern.includes("/") && matchImage(pattern, request.image) && !keys.includes(pattern)) keys.push(pattern);
  }
  return keys;
}

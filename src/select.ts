// Select: which configured providers an image is for (the first matchImages pattern of each that
// matches), and which of those are asked (service-account mode needs the token and annotations
// its tokenAttributes require, as the kubelet checks them).
import type { ProviderConfig } from "./config.js";
import type { ProviderOutcome } from "./dispatch.js";
import { matchImage } from "./match.js";
import type { KubeletRequest } from "./protocol.js";

/** The provider's outcome before it is asked: the pattern that matched, or why it is skipped. */
export function selectProvider(provider: ProviderConfig, image: string, request: KubeletRequest): ProviderOutcome {
  const outcome: ProviderOutcome = { provider, credentials: [], dropped: [] };
  const pattern = provider.matchImages.find((candidate) => matchImage(candidate, image));
  if (pattern === undefined) return outcome;
  outcome.matchedPattern = pattern;
  const attributes = provider.tokenAttributes;
  if (attributes) {
    if (!request.serviceAccountToken && attributes.requireServiceAccount) {
      outcome.skipped = "requires a service-account token and the request has none (check the kubelet config's tokenAttributes for credmux)";
    }
    const missing = (attributes.requiredServiceAccountAnnotationKeys ?? []).filter((key) => request.serviceAccountAnnotations?.[key] === undefined);
    if (request.serviceAccountToken && missing.length > 0) outcome.skipped = `the service account lacks the required annotation ${missing.map((k) => `"${k}"`).join(", ")}`;
  }
  return outcome;
}

// The one line an operator reads per kubelet exec at `info`: what was asked for, which providers
// answered and from where (the credential cache or upstream), which keys went back for which
// registry, and for how long the kubelet may keep them. Names and keys only, never a credential.
import { formatGoDuration } from "../duration.js";
import type { Resolution } from "../dispatch.js";
import type { LogFields } from "../log.js";

/**
 * How one matching provider ended: "hit" (the credential cache answered), "stale" (an upstream failed
 * and a still-valid cached credential answered), "miss" (asked upstream, then cached), "asked" (a
 * provider that is never cached, such as dockercfg), "failed" or "skipped".
 */
function providerState(outcome: Resolution["outcomes"][number]): string {
  if (outcome.error) return "failed";
  if (outcome.skipped !== undefined) return "skipped";
  if (outcome.source === "upstream") return outcome.provider.cacheable ? "miss" : "asked";
  return outcome.source === "stale" ? "stale" : "hit";
}

/** The exec's summary line: a message naming the image and the outcome, and fields for machines. */
export function execSummary(resolution: Resolution, ms: number): { message: string; fields: LogFields } {
  const asked = resolution.outcomes.filter((outcome) => outcome.matchedPattern !== undefined);
  const providers = Object.fromEntries(asked.map((outcome) => [outcome.provider.name, providerState(outcome)]));
  const keys = Object.keys(resolution.response.auth);
  const keysByRegistry: Record<string, string[]> = {};
  for (const key of keys) (keysByRegistry[key.split("/", 1)[0]!] ??= []).push(key);
  const cacheDuration = formatGoDuration(resolution.response.cacheDurationMs);
  const outcome = resolution.failure ? "failed" : keys.length === 0 ? "no credentials" : `${keys.length} key${keys.length === 1 ? "" : "s"}`;
  return {
    message: `${resolution.image.name}: ${outcome} (${asked.length === 0 ? "no provider matched" : Object.entries(providers).map(([name, state]) => `${name} ${state}`).join(", ")})`,
    fields: {
      image: resolution.image.name,
      ...(resolution.mirror ? { mirror: resolution.mirror.image.name } : {}),
      providers,
      keys: keysByRegistry,
      cacheKeyType: resolution.response.cacheKeyType,
      cacheDuration,
      ms: Math.round(ms),
    },
  };
}

// Cache keys (DESIGN.md, "Cache"): which provider, which registry glob the answer is valid for,
// whose identity it was fetched with, and under which settings of the provider (its fingerprint:
// provider-fingerprint.ts), so that a changed config is a miss. A key holds hashes, never a secret,
// and its file name is a hash of the key, so nothing about a pull's identity shows in a directory
// listing either.
import { decodeJwtClaims } from "../provider-kit/jwt.js";
import { sha256Hex as sha256 } from "../sha256.js";
import type { ProviderConfig } from "../config.js";
import type { CredentialRequest } from "../provider.js";

export interface CacheKey {
  provider: string;
  /** The registry (or, for answers the provider scoped to one image, the image) the answer serves. */
  scope: string;
  /** "node" for the node's own identity; else a hash of the service account or of its token. */
  identity: string;
  /** The digest of the provider's settings and files the answer was fetched under. */
  fingerprint: string;
  /** provider, scope, identity and fingerprint in one string: what an entry file records and is checked against. */
  text: string;
  /** sha256 of text: the entry's file name. */
  hash: string;
}

/**
 * The identity part of a key (protocol 5.5): with cacheType Token, the token itself; with
 * ServiceAccount, the service account the token was issued for (its subject and uid claims) and
 * the annotations, so that every pod of one service account shares the credential.
 */
export function cacheIdentity(provider: ProviderConfig, request: CredentialRequest): string {
  const token = request.serviceAccountToken;
  if (!provider.tokenAttributes || token === undefined) return "node";
  const annotations = Object.entries(request.serviceAccountAnnotations ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const claims = provider.tokenAttributes.cacheType === "ServiceAccount" ? decodeJwtClaims(token) : undefined;
  const kubernetes = claims?.["kubernetes.io"] as { serviceaccount?: { uid?: unknown } } | undefined;
  // A token whose service account cannot be read is keyed by the token: narrower, never shared wrongly.
  const who = claims?.sub !== undefined
    ? ["sa", String(claims.sub), String(kubernetes?.serviceaccount?.uid ?? "")]
    : ["token", sha256(token)];
  return `${who[0]}:${sha256(JSON.stringify([...who.slice(1), annotations]))}`;
}

/** The key for one provider's answer over one scope and identity, under the provider's current settings. */
export function makeCacheKey(provider: string, scope: string, identity: string, fingerprint: string): CacheKey {
  const text = JSON.stringify([provider, scope, identity, fingerprint]);
  return { provider, scope, identity, fingerprint, text, hash: sha256(text) };
}

/**
 * The parts of a key's text as an entry records it; undefined for a text that is not a key.
 * Entries of builds before the fingerprint have none: no key matches them, so they are never served.
 */
export function parseCacheKeyText(text: string): Omit<CacheKey, "text" | "hash" | "fingerprint"> & { fingerprint?: string } | undefined {
  let parts: unknown;
  try {
    parts = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parts) || parts.length < 3 || parts.length > 4 || !parts.every((part) => typeof part === "string")) return undefined;
  const [provider, scope, identity, fingerprint] = parts as string[];
  return { provider: provider!, scope: scope!, identity: identity!, ...(fingerprint !== undefined ? { fingerprint } : {}) };
}

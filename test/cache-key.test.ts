// Cache keys: the identity part follows tokenAttributes.cacheType (protocol 5.5), and no key holds
// a secret.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cacheIdentity, makeCacheKey } from "../src/cache/key.js";
import type { ProviderConfig } from "../src/config.js";

const jwt = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;
const account = (uid: string, extra: object = {}) => jwt({ sub: "system:serviceaccount:team:puller", "kubernetes.io": { serviceaccount: { name: "puller", uid } }, ...extra });
const provider = (cacheType?: "ServiceAccount" | "Token"): ProviderConfig => ({
  name: "p", type: "t", matchImages: ["r.test"], options: {}, cacheable: true,
  definition: async () => ({ type: "t", create: () => async () => ({ auth: {} }) }),
  ...(cacheType ? { tokenAttributes: { serviceAccountTokenAudience: "a", cacheType, requireServiceAccount: true } } : {}),
});
const request = (token?: string, annotations?: Record<string, string>) => ({
  image: "r.test/app", registry: "r.test", apiVersion: "credentialprovider.kubelet.k8s.io/v1" as const,
  ...(token ? { serviceAccountToken: token } : {}), ...(annotations ? { serviceAccountAnnotations: annotations } : {}),
});

test("node identity without service-account mode, whatever the request carries", () => {
  assert.equal(cacheIdentity(provider(), request(account("u1"))), "node");
  assert.equal(cacheIdentity(provider("ServiceAccount"), request()), "node");
});

test("ServiceAccount: tokens of one service account share a key; another account, uid or annotation does not", () => {
  const p = provider("ServiceAccount");
  const a = cacheIdentity(p, request(account("u1", { jti: "pod-a" })));
  assert.equal(cacheIdentity(p, request(account("u1", { jti: "pod-b", exp: 99 }))), a);
  assert.notEqual(cacheIdentity(p, request(account("u2"))), a);
  assert.notEqual(cacheIdentity(p, request(jwt({ sub: "system:serviceaccount:other:puller" }))), a);
  assert.notEqual(cacheIdentity(p, request(account("u1"), { "example.test/role": "x" })), a);
  assert.equal(
    cacheIdentity(p, request(account("u1"), { b: "2", a: "1" })),
    cacheIdentity(p, request(account("u1"), { a: "1", b: "2" })),
    "annotation order does not matter",
  );
});

test("Token: every token is its own key; an unreadable token in ServiceAccount mode is keyed by the token", () => {
  const t = provider("Token");
  assert.notEqual(cacheIdentity(t, request(account("u1", { jti: "a" }))), cacheIdentity(t, request(account("u1", { jti: "b" }))));
  const s = provider("ServiceAccount");
  assert.notEqual(cacheIdentity(s, request("opaque-token-1")), cacheIdentity(s, request("opaque-token-2")));
});

test("keys and their file names hold hashes, never the token", () => {
  const token = account("u1");
  const key = makeCacheKey("p", "r.test", cacheIdentity(provider("Token"), request(token)));
  assert.ok(!key.text.includes(token) && !key.text.includes(token.split(".")[1]!));
  assert.match(key.hash, /^[0-9a-f]{64}$/);
});

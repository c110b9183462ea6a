// Cache keys: the identity part follows tokenAttributes.cacheType (protocol 5.5), the fingerprint
// changes with anything in a provider's entry that shapes its answer and with every write to a file
// its options name (and with nothing else), and no key holds a secret.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { cacheIdentity, makeCacheKey, parseCacheKeyText } from "../src/cache/key.js";
import { fileOptions, providerFingerprint } from "../src/cache/provider-fingerprint.js";
import { loadConfig, type ProviderConfig } from "../src/config.js";
import { tempDir } from "./helpers/temp.js";

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
  const key = makeCacheKey("p", "r.test", cacheIdentity(provider("Token"), request(token)), providerFingerprint(provider("Token"), "/"));
  assert.ok(!key.text.includes(token) && !key.text.includes(token.split(".")[1]!));
  assert.match(key.hash, /^[0-9a-f]{64}$/);
});

/** An oauth2 provider's entry as config.ts gives it, with options overridden. */
const oauth2 = (options: Record<string, unknown> = {}, extra: Partial<ProviderConfig> = {}): ProviderConfig => ({
  name: "idp", type: "oauth2", matchImages: ["r.test"], cacheable: true,
  definition: async () => ({ type: "oauth2", create: () => async () => ({ auth: {} }) }),
  options: { tokenUrl: "https://idp.test/token", grant: "client_credentials", username: "robot", clientId: "node", clientSecretFile: "missing-secret", scope: ["pull", "list"], ...options },
  ...extra,
});

test("the fingerprint changes with every setting that shapes the answer", () => {
  const base = providerFingerprint(oauth2(), "/etc/credmux");
  const changes: Array<[string, ProviderConfig]> = [
    ["tokenUrl", oauth2({ tokenUrl: "https://idp.test/other" })],
    ["clientId", oauth2({ clientId: "node2" })],
    ["clientSecretFile", oauth2({ clientSecretFile: "other-secret" })],
    ["username", oauth2({ username: "robot2" })],
    ["an option added", oauth2({ clientAuth: "body" })],
    ["an option removed", oauth2({ scope: undefined })],
    ["a list's order", oauth2({ scope: ["list", "pull"] })],
    ["type", oauth2({}, { type: "module", module: "/etc/credmux/p.js" })],
    ["module", { ...oauth2({}, { type: "module", module: "/etc/credmux/q.js" }) }],
    ["matchImages", oauth2({}, { matchImages: ["r.test", "s.test"] })],
    ["tokenAttributes", oauth2({}, { tokenAttributes: { serviceAccountTokenAudience: "a", cacheType: "ServiceAccount", requireServiceAccount: false } })],
  ];
  const seen = new Set([base]);
  for (const [what, changed] of changes) {
    const fingerprint = providerFingerprint(changed, "/etc/credmux");
    assert.ok(!seen.has(fingerprint), `${what} changes the fingerprint`);
    seen.add(fingerprint);
  }
  assert.notEqual(providerFingerprint(oauth2(), "/etc/other"), base, "a relative file option names another file in another config directory");
});

test("the fingerprint does not change with key order or the provider's name", () => {
  const reordered = oauth2();
  reordered.options = Object.fromEntries(Object.entries(reordered.options as object).reverse());
  const base = providerFingerprint(oauth2(), "/etc/credmux");
  assert.equal(providerFingerprint(reordered, "/etc/credmux"), base);
  assert.equal(providerFingerprint(oauth2({}, { name: "renamed" }), "/etc/credmux"), base, "the name is a key part of its own");
});

test("file options are found by name, anywhere in the options, in the order of their names", () => {
  const table: Array<[string, unknown, string[]]> = [
    ["oauth2", { tokenUrl: "https://x", clientSecretFile: "s", subjectTokenFile: "t", caFile: "ca.pem" }, ["ca.pem", "s", "t"]],
    ["dockercfg", { files: ["a.json", "b.json"], rootDir: "/var/lib/kubelet" }, ["a.json", "b.json"]],
    ["credential-helper", { dockerConfigFiles: ["c.json"], env: [{ name: "HOME", value: "/root" }] }, ["c.json"]],
    ["alibaba", { oidcTokenFile: "oidc", accessKeySecretFile: "ak", instances: { "r.test": { instanceId: "i", region: "cn" } } }, ["ak", "oidc"]],
    ["token", { username: "u", secretFile: "token" }, ["token"]],
    ["nested", { workloadIdentity: { tokenFile: "wi" }, list: [{ keyFile: "k" }] }, ["k", "wi"]],
    ["names that only look alike", { profile: "p", filesystem: "f", fileMode: "0600", File: "x" }, ["x"]],
    ["no options", undefined, []],
  ];
  for (const [name, options, files] of table) assert.deepEqual(fileOptions(options), files, name);
});

test("every write to a file an option names changes the fingerprint; reading it does not", () => {
  const dir = tempDir();
  const secret = path.join(dir, "secret");
  const provider = () => oauth2({ clientSecretFile: "secret", caFile: "ca.pem" });
  const fingerprints = new Set<string>();
  const expectChange = (what: string) => {
    const fingerprint = providerFingerprint(provider(), dir);
    assert.ok(!fingerprints.has(fingerprint), `${what} changes the fingerprint`);
    fingerprints.add(fingerprint);
    assert.equal(providerFingerprint(provider(), dir), fingerprint, `${what}: unchanged while the files are`);
  };
  expectChange("missing");
  fs.writeFileSync(secret, "s3cret-one\n");
  expectChange("created");
  fs.readFileSync(secret);
  assert.ok(fingerprints.has(providerFingerprint(provider(), dir)), "read, not changed");
  fs.writeFileSync(secret, "s3cret-two\n");
  expectChange("rewritten in place, same size");
  const { atime, mtime } = fs.statSync(secret);
  fs.writeFileSync(secret, "s3cret-3re\n");
  fs.utimesSync(secret, atime, mtime);
  expectChange("rewritten with its mtime restored");
  fs.writeFileSync(path.join(dir, "next"), "s3cret-four\n");
  fs.renameSync(path.join(dir, "next"), secret);
  expectChange("replaced by rename");
  fs.mkdirSync(path.join(dir, "v1"));
  fs.writeFileSync(path.join(dir, "v1", "secret"), "s3cret-five\n");
  fs.rmSync(secret);
  fs.symlinkSync(path.join(dir, "v1", "secret"), secret);
  expectChange("a symlink to another file, as a secret volume swaps ..data");
  fs.writeFileSync(path.join(dir, "ca.pem"), "-----BEGIN CERTIFICATE-----\n");
  expectChange("another file option's file created");
});

test("a config noted as valid gives its providers the fingerprints validating gives", async () => {
  const dir = tempDir();
  const file = path.join(dir, "config.json");
  // Options in an order unlike their schemas', which validating returns in schema order.
  fs.writeFileSync(file, JSON.stringify({
    apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(dir, "cache") },
    providers: [
      { caFile: "ca.pem", scope: ["b", "a"], clientSecretFile: "secret", clientId: "c", username: "u", grant: "client_credentials", tokenUrl: "https://idp.test/t", matchImages: ["r.test"], type: "oauth2", name: "idp" },
      { env: [{ value: "1", name: "X" }], dockerConfigFiles: ["d.json"], type: "credential-helper", name: "helper", matchImages: ["h.test"] },
      { defaultCacheDuration: "1m", apiVersion: "credentialprovider.kubelet.k8s.io/v1", args: ["--x"], command: "plugin", type: "kubelet-plugin", name: "chained", matchImages: ["k.test"] },
      { stsEndpoint: "https://sts.test", roles: { "123456789012": "arn:aws:iam::123456789012:role/pull" }, region: "us-east-1", type: "ecr", name: "ecr" },
      { workloadIdentity: { scope: "s", audience: "//iam.googleapis.com/x" }, metadataEndpoint: "http://127.0.0.1:1", type: "gcp", name: "gcp" },
      { scope: "s", clientSecretFile: "az", tenantId: "t", clientId: "c", credential: "servicePrincipal", type: "acr", name: "acr" },
      { accessKeySecretFile: "ak", accessKeyId: "id", credential: "accessKey", type: "alibaba", name: "alibaba" },
    ],
  }));
  const fingerprints = async (snapshotBuildId?: string) =>
    (await loadConfig(file, dir, snapshotBuildId ? { snapshotBuildId } : {})).providers.map((provider) => providerFingerprint(provider, dir));
  const validated = await fingerprints();
  let noted = false;
  await loadConfig(file, dir, { snapshotBuildId: "0123456789abcdef", onNoted: () => { noted = true; } });
  assert.ok(noted, "the first load noted the config");
  assert.deepEqual(await fingerprints("0123456789abcdef"), validated);
});

test("a key's text gives back its parts; the keys of earlier builds (no fingerprint) parse, and nothing else does", () => {
  const key = makeCacheKey("idp", "r.test", "node", "f".repeat(64));
  assert.deepEqual(parseCacheKeyText(key.text), { provider: "idp", scope: "r.test", identity: "node", fingerprint: "f".repeat(64) });
  assert.deepEqual(parseCacheKeyText(JSON.stringify(["idp", "r.test", "node"])), { provider: "idp", scope: "r.test", identity: "node" });
  for (const text of ["", "tokens r.test node", "{}", "[1,2,3]", JSON.stringify(["a", "b"]), JSON.stringify(["a", "b", "c", "d", "e"])]) {
    assert.equal(parseCacheKeyText(text), undefined, text);
  }
  assert.notEqual(key.hash, makeCacheKey("idp", "r.test", "node", "e".repeat(64)).hash, "another fingerprint, another entry file");
});

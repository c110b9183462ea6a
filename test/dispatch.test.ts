// Dispatch: selection, the deadline, merging, which keys a provider may give, cacheKeyType and
// cacheDuration, and the service-account rules. Providers are the scripted external module.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import { Dispatcher } from "../src/dispatch.js";
import { SecretSet } from "../src/secrets.js";
import type { KubeletRequest } from "../src/protocol.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { FIXTURES } from "./helpers/paths.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const SCRIPTED = path.join(FIXTURES, "providers", "scripted-provider.js");
const NOW = Date.parse("2026-11-23T10:00:00Z");
const V1 = "credentialprovider.kubelet.k8s.io/v1" as const;
const cred = (username: string, password: string) => ({ username, password });

function scripted(name: string, matchImages: string[], script: Record<string, unknown> = {}) {
  return { name, type: "module", module: SCRIPTED, matchImages, ...script };
}

async function resolve(providers: object[], request: Partial<KubeletRequest> & { image: string }, extra: object = {}) {
  const dir = tempDir();
  const config = await loadConfig(writeConfig(dir, { providers, ...extra }));
  const log = new CaptureLog();
  const dispatcher = new Dispatcher(config, { log, secrets: new SecretSet(), now: () => NOW, env: {}, cwd: dir });
  const resolution = await dispatcher.resolve({ apiVersion: V1, ...request });
  return { resolution, log, dir };
}

test("providers are merged in config order; an earlier provider's key wins", async () => {
  const { resolution } = await resolve([
    scripted("first", ["registry.test"], { answer: { "registry.test": cred("first", "pw-first") } }),
    scripted("second", ["*.test"], { answer: { "https://registry.test/v2/": cred("second", "pw-second"), "registry.test/team": cred("team", "pw-team") } }),
  ], { image: "registry.test/team/app" });
  assert.equal(resolution.failure, undefined);
  assert.deepEqual(resolution.response.auth, { "registry.test": cred("first", "pw-first"), "registry.test/team": cred("team", "pw-team") });
  assert.equal(resolution.response.cacheKeyType, "Registry");
});

test("a provider whose patterns do not match is not asked", async () => {
  const dir = tempDir();
  const record = path.join(dir, "asked.jsonl");
  const { resolution } = await resolve([
    scripted("quay", ["quay.test"], { record, answer: { "quay.test": cred("q", "pw-q") } }),
    scripted("registry", ["registry.test"], { answer: { "registry.test": cred("r", "pw-r") } }),
  ], { image: "registry.test/app" });
  assert.equal(fs.existsSync(record), false);
  assert.equal(resolution.outcomes[0]!.matchedPattern, undefined);
  assert.deepEqual(Object.keys(resolution.response.auth), ["registry.test"]);
});

test("keys for other registries are dropped silently; keys broader than matchImages are dropped with a warning", async () => {
  const { resolution, log } = await resolve([
    scripted("registry", ["registry.test"], { answer: {
      "registry.test": cred("ok", "pw-ok"),
      "other.test": cred("other", "pw-other"),
      "*.test": cred("wild", "pw-wild"),
    } }),
  ], { image: "registry.test/app" });
  assert.deepEqual(resolution.response.auth, { "registry.test": cred("ok", "pw-ok") });
  const drops = resolution.outcomes[0]!.dropped;
  assert.deepEqual(drops.map((d) => d.key).sort(), ["*.test", "other.test"]);
  const warnings = log.at("warn");
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!.message, /broader than the provider's matchImages/);
  assert.equal(warnings[0]!.fields!.key, "*.test");
});

test("a path-scoped provider on the same registry makes the answer Image-keyed", async () => {
  const { resolution } = await resolve([
    scripted("team-a", ["registry.test/team-a"], { answer: { "registry.test/team-a": cred("a", "pw-a") } }),
    scripted("registry", ["registry.test"], { answer: { "registry.test": cred("r", "pw-r") } }),
  ], { image: "registry.test/team-b/app" });
  // The kubelet would otherwise reuse this answer, which lacks team-a's key, for team-a's images.
  assert.equal(resolution.response.cacheKeyType, "Image");
  assert.deepEqual(Object.keys(resolution.response.auth), ["registry.test"]);
});

test("a provider asking for Image narrows the whole answer", async () => {
  const { resolution } = await resolve([
    scripted("a", ["registry.test"], { answer: { "registry.test": cred("a", "pw-a") }, cacheKeyType: "Image" }),
  ], { image: "registry.test/app" });
  assert.equal(resolution.response.cacheKeyType, "Image");
});

test("cacheDuration: real lifetime less the margin, the shortest across providers, the default without expiry", async () => {
  const cases: Array<[string, Array<Record<string, unknown>>, number]> = [
    ["no expiry: defaults.cacheDuration", [{ answer: { "registry.test": cred("a", "pw-a") } }], 5 * 60_000],
    ["expires in 1h: 55m", [{ answer: { "registry.test": cred("a", "pw-a") }, expiresInMs: 3_600_000 }], 55 * 60_000],
    ["expires in 3m, under the margin: half of it", [{ answer: { "registry.test": cred("a", "pw-a") }, expiresInMs: 180_000 }], 90_000],
    ["shortest of two providers", [
      { answer: { "registry.test": cred("a", "pw-a") }, expiresInMs: 3_600_000 },
      { answer: { "registry.test/x": cred("b", "pw-b") }, expiresInMs: 1_800_000 },
    ], 25 * 60_000],
    ["no credentials: 0", [{ answer: {} }], 0],
  ];
  for (const [name, scripts, expected] of cases) {
    const { resolution } = await resolve(scripts.map((script, i) => scripted(`p${i}`, ["registry.test"], script)), { image: "registry.test/x/app" });
    assert.equal(resolution.response.cacheDurationMs, expected, name);
  }
});

test("a provider that hangs fails at the deadline, naming the provider", async () => {
  // That it ended at all is the point: the provider's promise never settles.
  const { resolution } = await resolve([scripted("slow", ["registry.test"], { hang: true })], { image: "registry.test/app" }, { defaults: { timeout: "1s" } });
  assert.equal(resolution.failure?.toLine(), "provider slow (module): no answer within 1s (the deadline is defaults.timeout; check that the provider's upstream is reachable)");
});

test("a provider that throws fails the resolution with its message; onFailure: empty answers empty instead", async () => {
  const providers = [
    scripted("broken", ["registry.test"], { fail: "upstream said no" }),
    scripted("fine", ["registry.test"], { answer: { "registry.test": cred("f", "pw-f") } }),
  ];
  const failing = await resolve(providers, { image: "registry.test/app" });
  assert.equal(failing.resolution.failure?.message, "provider broken (module): upstream said no");
  const empty = await resolve(providers, { image: "registry.test/app" }, { onFailure: "empty" });
  assert.deepEqual(empty.resolution.response.auth, {});
  assert.equal(empty.resolution.response.cacheDurationMs, 0);
  assert.match(empty.log.at("warn")[0]!.message, /onFailure is empty/);
});

test("the service-account token reaches only providers in service-account mode", async () => {
  const dir = tempDir();
  const plain = path.join(dir, "plain.jsonl");
  const sa = path.join(dir, "sa.jsonl");
  const tokenAttributes = { serviceAccountTokenAudience: "registry.test", cacheType: "ServiceAccount", requireServiceAccount: true };
  await resolve([
    scripted("plain", ["registry.test"], { record: plain, answer: {} }),
    { ...scripted("sa", ["registry.test"], { record: sa, answer: {} }), tokenAttributes },
  ], { image: "registry.test/app", serviceAccountToken: "the-sa-token", serviceAccountAnnotations: { "example.test/role": "puller" } });
  const plainRequest = JSON.parse(fs.readFileSync(plain, "utf8"));
  const saRequest = JSON.parse(fs.readFileSync(sa, "utf8"));
  assert.equal(plainRequest.serviceAccountToken, undefined);
  assert.equal(plainRequest.serviceAccountAnnotations, undefined);
  assert.equal(saRequest.serviceAccountToken, "the-sa-token");
  assert.deepEqual(saRequest.serviceAccountAnnotations, { "example.test/role": "puller" });
});

test("returning the service-account token as a password is refused unless cacheType is Token", async () => {
  const request = { image: "registry.test/app", serviceAccountToken: "the-sa-token-123" };
  const attributes = (cacheType: string) => ({ serviceAccountTokenAudience: "registry.test", cacheType, requireServiceAccount: true });
  const refused = await resolve([{ ...scripted("echo", ["registry.test"], { echoToken: true }), tokenAttributes: attributes("ServiceAccount") }], request);
  assert.match(refused.resolution.failure!.message, /returned the service-account token as a password/);
  const allowed = await resolve([{ ...scripted("echo", ["registry.test"], { echoToken: true }), tokenAttributes: attributes("Token") }], request);
  assert.equal(allowed.resolution.failure, undefined);
  assert.equal(allowed.resolution.response.auth["registry.test"]!.password, "the-sa-token-123");
});

test("a service-account provider is skipped without a token or a required annotation", async () => {
  const tokenAttributes = { serviceAccountTokenAudience: "a", cacheType: "ServiceAccount", requireServiceAccount: true, requiredServiceAccountAnnotationKeys: ["example.test/role"] };
  const provider = { ...scripted("sa", ["registry.test"], { answer: { "registry.test": cred("s", "pw-s") } }), tokenAttributes };
  const noToken = await resolve([provider], { image: "registry.test/app" });
  assert.match(noToken.resolution.outcomes[0]!.skipped!, /requires a service-account token/);
  assert.deepEqual(noToken.resolution.response.auth, {});
  const noAnnotation = await resolve([provider], { image: "registry.test/app", serviceAccountToken: "tok-abcdef" });
  assert.match(noAnnotation.resolution.outcomes[0]!.skipped!, /lacks the required annotation "example.test\/role"/);
});

test("an image no provider matches gets an empty answer and a warning", async () => {
  const { resolution, log } = await resolve([scripted("a", ["registry.test"], { answer: {} })], { image: "quay.test/app" });
  assert.deepEqual(resolution.response, { apiVersion: V1, cacheKeyType: "Registry", cacheDurationMs: 0, auth: {} });
  assert.match(log.at("warn")[0]!.message, /no provider matches this image/);
});

test("Docker Hub keys are answered as docker.io, which the kubelet matches directly", async () => {
  const { resolution } = await resolve([
    scripted("hub", ["docker.io"], { answer: { "https://index.docker.io/v1/": cred("h", "pw-h") } }),
  ], { image: "docker.io/library/nginx" });
  assert.deepEqual(resolution.response.auth, { "docker.io": cred("h", "pw-h") });
});

test("a mirrored image is answered by the mirror's providers, keyed by the from registry", async () => {
  const dir = tempDir();
  const record = path.join(dir, "mirror.jsonl");
  const hub = path.join(dir, "hub.jsonl");
  const { resolution } = await resolve([
    scripted("hub", ["docker.io"], { record: hub, answer: { "docker.io": cred("hub", "pw-hub") } }),
    scripted("mirror", ["mirror.test"], { record, answer: { "mirror.test": cred("m", "pw-mirror"), "mirror.test/hub": cred("mh", "pw-mirror-hub") } }),
  ], { image: "docker.io/library/nginx" }, { mirrors: [{ from: "docker.io", to: "mirror.test/hub" }] });
  assert.equal(resolution.failure, undefined);
  // The credential the kubelet would try first for the mirrored image, under the from registry.
  assert.deepEqual(resolution.response.auth, { "docker.io": cred("mh", "pw-mirror-hub") });
  assert.equal(resolution.response.cacheKeyType, "Registry");
  assert.equal(resolution.mirror?.image.name, "mirror.test/hub/library/nginx");
  assert.equal(JSON.parse(fs.readFileSync(record, "utf8")).image, "mirror.test/hub/library/nginx");
  assert.equal(fs.existsSync(hub), false, "the from registry's own provider is not asked");
});

test("a mirror rule for part of a registry makes the answer Image-keyed; images outside it are not mirrored", async () => {
  const providers = [
    scripted("direct", ["registry.test"], { answer: { "registry.test": cred("d", "pw-d") } }),
    scripted("mirror", ["mirror.test"], { answer: { "mirror.test": cred("m", "pw-m") } }),
  ];
  const mirrors = [{ from: "registry.test/team", to: "mirror.test/cache/team" }];
  const inside = await resolve(providers, { image: "registry.test/team/app" }, { mirrors });
  // The repositories below registry.test/team, not registry.test/teamx, which the rule does not take.
  assert.deepEqual(inside.resolution.response.auth, { "registry.test/team/": cred("m", "pw-m") });
  assert.equal(inside.resolution.response.cacheKeyType, "Image");
  const outside = await resolve(providers, { image: "registry.test/other/app" }, { mirrors });
  assert.deepEqual(outside.resolution.response.auth, { "registry.test": cred("d", "pw-d") });
  // The direct answer must not be reused registry-wide either: part of the registry is mirrored.
  assert.equal(outside.resolution.response.cacheKeyType, "Image");
});

test("a mirror whose to has a '*' is refused by the config", async () => {
  const dir = tempDir();
  await assert.rejects(loadConfig(writeConfig(dir, { mirrors: [{ from: "docker.io", to: "*.mirror.test" }], providers: [scripted("a", ["x.test"])] })),
    /mirrors\[0\]\.to: expected the mirror's registry and path, without '\*'/);
});

test("a registry-wide key from a provider selected by a path-scoped pattern is narrowed to that path", async () => {
  const { resolution, log } = await resolve([
    scripted("team-a", ["registry.test/team-a"], { answer: { "registry.test": cred("a", "pw-a") } }),
  ], { image: "registry.test/team-a/app" });
  assert.deepEqual(resolution.response.auth, { "registry.test/team-a": cred("a", "pw-a") });
  assert.equal(resolution.response.cacheKeyType, "Image");
  assert.equal(log.at("warn").length, 0);
  // A key for another path of the registry is not widened or moved: it does not match the image.
  const other = await resolve([
    scripted("team-a", ["registry.test/team-a"], { answer: { "registry.test/team-b": cred("b", "pw-b") } }),
  ], { image: "registry.test/team-a/app" });
  assert.deepEqual(other.resolution.response.auth, {});
  // A wildcard key broader in its host is still dropped.
  const wild = await resolve([
    scripted("team-a", ["registry.test/team-a"], { answer: { "*.test": cred("w", "pw-w") } }),
  ], { image: "registry.test/team-a/app" });
  assert.deepEqual(wild.resolution.response.auth, {});
});

// The gcp provider through the built bundle, against a loopback metadata server and STS that speak
// the real wire formats: the node's token with its expiry as the cache lifetime, named service
// accounts, workload identity for opted-in service accounts, and every failure as exit 1 (never the
// upstream plugin's empty answer), unless onFailure is empty. Key selection is unit-tested in process.
import { test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { gcpAuthKeys, registryAndPathPrefixes, stsAudience } from "../providers/gcp.js";
import { GCP_REGISTRY_KEYS } from "../providers/gcp-registries.js";
import { lookupCredentials } from "../src/match.js";
import { startGcpServer, type GcpServer } from "./helpers/gcp-server.js";
import { durationSeconds, execProvider, kubeletRequest } from "./helpers/provider-exec.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const KSA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dGVhbTpwdWxsZXIifQ.c2ln";
const WI = { projectId: "my-project", identityProvider: "https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/c1" };
const TOKEN_ATTRIBUTES = { serviceAccountTokenAudience: "my-project.svc.id.goog", cacheType: "ServiceAccount", requireServiceAccount: false, optionalServiceAccountAnnotationKeys: ["iam.gke.io/enable-wi-image-pull"] };

function exec(server: GcpServer, image: string, entry: object = {}, extra: object = {}, requestExtra: object = {}, env: Record<string, string> = {}, dir = tempDir()) {
  return execProvider({ name: "google", type: "gcp", metadataEndpoint: server.metadataUrl, ...entry }, image, { config: extra, request: requestExtra, dir, env });
}

/** A short deadline for the hanging-endpoint cases, so that they stay cheap. */
const HANG_DEADLINE = { defaults: { timeout: "1s" } };

test("the node's token from the metadata server, with Metadata-Flavor, under the image's registry, Registry-keyed", async () => {
  const server = await startGcpServer();
  for (const image of ["us-docker.pkg.dev/my-project/repo/app:1", "gcr.io/my-project/app", "eu.gcr.io/my-project/app"]) {
    const run = await exec(server, image);
    assert.equal(run.status, 0, run.stderr);
    const registry = image.slice(0, image.indexOf("/"));
    const password = server.issued.metadata.at(-1);
    assert.deepEqual(run.response.auth[registry], { username: "oauth2accesstoken", password });
    for (const key of Object.keys(run.response.auth)) assert.ok([...registryAndPathPrefixes(image.replace(/:[^/]*$/, "")), ...GCP_REGISTRY_KEYS].includes(key), `unexpected key ${key}`);
    assert.equal(run.response.cacheKeyType, "Registry");
  }
  const asked = server.requests.filter((r) => r.path.endsWith("/token"));
  assert.equal(asked.length, 3);
  for (const r of asked) {
    assert.equal(r.method, "GET");
    assert.equal(r.path, "/computeMetadata/v1/instance/service-accounts/default/token");
    assert.equal(r.headers["metadata-flavor"], "Google");
  }
});

test("without metadataEndpoint, GCE_METADATA_HOST names the metadata server, as for Google's client libraries", async () => {
  const server = await startGcpServer();
  const dir = tempDir();
  const config = writeConfig(dir, { defaults: { timeout: "1s" }, providers: [{ name: "google", type: "gcp" }] });
  const run = await runBundle(["--config", config], { stdin: kubeletRequest("gcr.io/p/app"), env: { GCE_METADATA_HOST: new URL(server.metadataUrl).host } });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).auth["gcr.io"].password, server.issued.metadata[0]);
});

test("expires_in becomes the cache lifetime: less the margin, or half of it when shorter than the margin", async () => {
  const server = await startGcpServer();
  for (const [expiresIn, expected] of [[3599, 3599 - 300], [7200, 6900], [120, 60]] as const) {
    server.expiresIn = expiresIn;
    const run = await exec(server, "gcr.io/p/app");
    assert.equal(run.status, 0, run.stderr);
    const lifetime = durationSeconds(run.response.cacheDuration);
    assert.ok(lifetime <= expected && lifetime >= expected - 2, `expires_in ${expiresIn}: cacheDuration ${run.response.cacheDuration}, expected about ${expected}s`);
  }
});

test("a named service account's token; one not attached to the instance is an error that says so", async () => {
  const server = await startGcpServer();
  server.serviceAccounts.add("puller@my-project.iam.gserviceaccount.com");
  const ok = await exec(server, "gcr.io/p/app", { serviceAccount: "puller@my-project.iam.gserviceaccount.com" });
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(server.requests.at(-1)!.path, "/computeMetadata/v1/instance/service-accounts/puller@my-project.iam.gserviceaccount.com/token");
  const missing = await exec(server, "gcr.io/p/app", { serviceAccount: "ghost@my-project.iam.gserviceaccount.com" });
  assert.equal(missing.status, 1);
  assert.equal(missing.stdout, "");
  assert.match(missing.stderr, /gcp: metadata server http:\/\/127\.0\.0\.1:\d+\/computeMetadata\/v1\/instance\/service-accounts\/ghost@my-project\.iam\.gserviceaccount\.com\/token answered HTTP 404 \(check that the service account "ghost@my-project\.iam\.gserviceaccount\.com" is attached to this instance\)/);
});

test("workload identity: an opted-in service account's token goes through STS, with the audience and RFC 8693 fields; the node's identity is not used", async () => {
  const server = await startGcpServer();
  server.sts.audience = stsAudience(WI)!;
  server.sts.subjectTokens.add(KSA_TOKEN);
  server.expiresIn = 3600;
  const entry = { tokenAttributes: TOKEN_ATTRIBUTES, workloadIdentity: { ...WI, stsEndpoint: server.stsUrl } };
  const run = await exec(server, "us-central1-docker.pkg.dev/p/r/app", entry, {}, { serviceAccountToken: KSA_TOKEN, serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" } });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth["us-central1-docker.pkg.dev"], { username: "oauth2accesstoken", password: server.issued.sts[0] });
  const lifetime = durationSeconds(run.response.cacheDuration);
  assert.ok(lifetime <= 3300 && lifetime >= 3298, run.response.cacheDuration);
  assert.equal(server.issued.metadata.length, 0, "the node's service account was not asked");
  const sts = server.requests.find((r) => r.path === "/v1/token")!;
  assert.equal(sts.headers["content-type"], "application/json");
  assert.deepEqual(JSON.parse(sts.body), {
    audience: "identitynamespace:my-project.svc.id.goog:https://container.googleapis.com/v1/projects/my-project/locations/us-central1/clusters/c1",
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
    scope: "https://www.googleapis.com/auth/cloud-platform",
    subject_token: KSA_TOKEN,
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
  });

  // A service account that does not opt in pulls with the node's identity, as upstream.
  const plain = await exec(server, "gcr.io/p/app", entry, {}, { serviceAccountToken: KSA_TOKEN, serviceAccountAnnotations: {} });
  assert.equal(plain.status, 0, plain.stderr);
  assert.equal(plain.response.auth["gcr.io"].password, server.issued.metadata[0]);
});

test("workload identity failures are errors, never a fallback to the node's identity nor an empty answer", async () => {
  const server = await startGcpServer();
  server.sts.audience = stsAudience(WI)!;
  const optIn = { serviceAccountToken: KSA_TOKEN, serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" } };
  const entry = { tokenAttributes: TOKEN_ATTRIBUTES, workloadIdentity: { ...WI, stsEndpoint: server.stsUrl } };
  // STS does not trust this token.
  const refused = await exec(server, "gcr.io/p/app", entry, {}, optIn);
  assert.equal(refused.status, 1);
  assert.equal(refused.stdout, "");
  assert.match(refused.human, /^credmux: provider google: gcp: STS token exchange http:\/\/127\.0\.0\.1:\d+\/v1\/token answered HTTP 400: invalid_grant: The subject token is invalid\. \(check the workload identity pool/);
  assert.equal(server.issued.metadata.length, 0);
  // Opted in, but the provider has no workload identity settings.
  const unconfigured = await exec(server, "gcr.io/p/app", { tokenAttributes: TOKEN_ATTRIBUTES }, {}, optIn);
  assert.equal(unconfigured.status, 1);
  assert.match(unconfigured.stderr, /gcp: the service account opts in to workload identity \(iam\.gke\.io\/enable-wi-image-pull: "true"\) but the provider has no workloadIdentity settings/);
  assert.equal(server.issued.metadata.length, 0);
  // A custom opt-in annotation.
  server.sts.subjectTokens.add(KSA_TOKEN);
  const custom = await exec(server, "gcr.io/p/app", { tokenAttributes: { ...TOKEN_ATTRIBUTES, optionalServiceAccountAnnotationKeys: ["example.com/gar"] }, workloadIdentity: { ...WI, stsEndpoint: server.stsUrl, annotation: "example.com/gar" } },
    {}, { serviceAccountToken: KSA_TOKEN, serviceAccountAnnotations: { "example.com/gar": "true" } });
  assert.equal(custom.status, 0, custom.stderr);
  assert.equal(custom.response.auth["gcr.io"].password, server.issued.sts.at(-1));
});

test("a refusing metadata server is an error naming it: HTTP 403, HTTP 503 after bounded retries, connection refused", async () => {
  const server = await startGcpServer();
  server.modes.metadata = "refuse";
  const forbidden = await exec(server, "gcr.io/p/app");
  assert.equal(forbidden.status, 1);
  assert.equal(forbidden.stdout, "");
  assert.match(forbidden.human, /^credmux: provider google: gcp: metadata server http:\/\/127\.0\.0\.1:\d+\/computeMetadata\/v1\/instance\/service-accounts\/default\/token answered HTTP 403 with something other than JSON \(text\/html\)/);

  server.modes.metadata = "fail";
  server.requests.length = 0;
  const unavailable = await exec(server, "gcr.io/p/app", {}, { defaults: { timeout: "10s" } });
  assert.equal(unavailable.status, 1);
  assert.match(unavailable.stderr, /answered HTTP 503/);
  assert.equal(server.requests.length, 3, "three attempts, then the error");

  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await exec(server, "gcr.io/p/app", { metadataEndpoint: `http://127.0.0.1:${port}/computeMetadata/v1` });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, new RegExp(`gcp: metadata server http://127\\.0\\.0\\.1:${port}/computeMetadata/v1/instance/service-accounts/default/token: connection refused \\(check that the endpoint is reachable from the node\\)`));
});

test("a hanging metadata server or STS fails at the deadline, not at the kubelet's minute", async () => {
  const server = await startGcpServer();
  server.modes.metadata = "hang";
  const run = await exec(server, "gcr.io/p/app", {}, HANG_DEADLINE);
  assert.equal(run.status, 1);
  assert.equal(run.stdout, "");
  // The provider names the endpoint that hung (the dispatcher's own line only if it says nothing).
  assert.match(run.human, /^credmux: provider google: gcp: .*http:\/\/127\.0\.0\.1:\d+\/\S+: no answer before the deadline/);

  server.modes.sts = "hang";
  server.sts.audience = stsAudience(WI)!;
  const wi = await exec(server, "gcr.io/p/app", { tokenAttributes: TOKEN_ATTRIBUTES, workloadIdentity: { ...WI, stsEndpoint: server.stsUrl } }, HANG_DEADLINE,
    { serviceAccountToken: KSA_TOKEN, serviceAccountAnnotations: { "iam.gke.io/enable-wi-image-pull": "true" } });
  assert.equal(wi.status, 1);
  assert.match(wi.human, /^credmux: provider google: gcp: .*http:\/\/127\.0\.0\.1:\d+\/v1\/token: no answer before the deadline/);
});

test("a malformed or incomplete answer is an error", async () => {
  const server = await startGcpServer();
  server.modes.metadata = "malformed";
  const html = await exec(server, "gcr.io/p/app");
  assert.equal(html.status, 1);
  assert.match(html.stderr, /gcp: metadata server \S+ answered HTTP 200 with something other than JSON \(text\/html\)/);
  server.modes.metadata = "incomplete";
  const partial = await exec(server, "gcr.io/p/app");
  assert.equal(partial.status, 1);
  assert.match(partial.stderr, /gcp: metadata server \S+ answered without an access_token/);
  server.modes.metadata = "ok";
  server.expiresIn = 0;
  const expired = await exec(server, "gcr.io/p/app");
  assert.equal(expired.status, 1);
  assert.match(expired.stderr, /gcp: metadata server \S+ answered without a positive expires_in/);
});

test("onFailure: empty turns the failure into an empty, uncached answer; without it there is no exit 0", async () => {
  const server = await startGcpServer();
  server.modes.metadata = "refuse";
  const strict = await exec(server, "gcr.io/p/app");
  assert.equal(strict.status, 1);
  const lenient = await exec(server, "gcr.io/p/app", {}, { onFailure: "empty" });
  assert.equal(lenient.status, 0, lenient.stderr);
  assert.deepEqual(lenient.response.auth, {});
  assert.equal(lenient.response.cacheDuration, "0s");
});

test("auth keys: the image's registry and Google's hosts, only as far as matchImages cover them", () => {
  const cases: Array<[string, string[] | undefined, string[]]> = [
    // Until the core hands providers their patterns: the registry and every path prefix of the image.
    ["us-docker.pkg.dev/p/r/app", undefined, ["us-docker.pkg.dev", "us-docker.pkg.dev/p", "us-docker.pkg.dev/p/r", "us-docker.pkg.dev/p/r/app"]],
    ["us-docker.pkg.dev/p/r/app", [...GCP_REGISTRY_KEYS], ["us-docker.pkg.dev", "*.pkg.dev"]],
    ["gcr.io/p/app", [...GCP_REGISTRY_KEYS], ["gcr.io"]],
    ["eu.gcr.io/p/app", [...GCP_REGISTRY_KEYS], ["eu.gcr.io", "*.gcr.io"]],
    ["container.cloud.google.com/p/app", [...GCP_REGISTRY_KEYS], ["container.cloud.google.com"]],
    // Narrower patterns: no wildcard key beyond them.
    ["us-docker.pkg.dev/p/r/app", ["us-docker.pkg.dev"], ["us-docker.pkg.dev"]],
    ["europe-docker.pkg.dev/p/r/app", ["*-docker.pkg.dev"], ["europe-docker.pkg.dev"]],
    // Path-scoped patterns: the pattern itself is the only key they allow.
    ["us-docker.pkg.dev/team-a/r/app", ["us-docker.pkg.dev/team-a"], ["us-docker.pkg.dev/team-a"]],
    ["eu.gcr.io/team-a/app", ["*.gcr.io/team-a", "gcr.io"], ["*.gcr.io/team-a"]],
  ];
  for (const [image, patterns, expected] of cases) {
    assert.deepEqual(gcpAuthKeys({ image, registry: image.slice(0, image.indexOf("/")) }, patterns), expected, `${image} with ${JSON.stringify(patterns)}`);
  }
});

test("workload identity audiences, and a config that names none is refused", async () => {
  assert.equal(stsAudience({ audience: "//iam.googleapis.com/custom" }), "//iam.googleapis.com/custom");
  assert.equal(stsAudience({ projectNumber: "123", poolId: "pool", providerId: "k8s" }), "//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/pool/providers/k8s");
  assert.equal(stsAudience({ projectId: "p" }), undefined);
  const dir = tempDir();
  const run = await runBundle(["validate", "--config", writeConfig(dir, { providers: [{ name: "google", type: "gcp", workloadIdentity: { projectId: "p" } }] })]);
  assert.equal(run.status, 1);
  assert.match(run.stderr, /providers\[0\]\.workloadIdentity \(provider "google"\): expected audience, or projectId and identityProvider, or projectNumber, poolId and providerId/);
});

test("no token reaches the log, even at debug level; the log says which identity answered", async () => {
  const server = await startGcpServer();
  const run = await exec(server, "gcr.io/p/app", {}, {}, {}, { CREDMUX_LOG_LEVEL: "debug" });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(!run.stderr.includes(server.issued.metadata[0]!));
  assert.match(run.stderr, /"msg":"gcp: access token"/);
  assert.match(run.stderr, /"via":"metadata server, service account default"/);
});

test("path-scoped matchImages: each repository under the pattern gets the credential, also when answered from the disk cache", async () => {
  const server = await startGcpServer();
  const dir = tempDir();
  const entry = { matchImages: ["europe-docker.pkg.dev/partner-project"] };
  const extra = { cache: { dir: path.join(dir, "cache") } };
  for (const image of ["europe-docker.pkg.dev/partner-project/repo/app", "europe-docker.pkg.dev/partner-project/other/tool"]) {
    const run = await exec(server, image, entry, extra, {}, {}, dir);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.response.cacheKeyType, "Image");
    assert.deepEqual(lookupCredentials(Object.entries(run.response.auth), image)[0], { username: "oauth2accesstoken", password: server.issued.metadata[0] }, image);
  }
  assert.equal(server.issued.metadata.length, 1, "the second repository was answered from the cache");
});

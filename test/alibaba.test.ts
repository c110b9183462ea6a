// The alibaba provider through the built bundle, against a loopback ECS metadata server, STS and cr
// API that verify every ACS3-HMAC-SHA256 signature: both editions (Enterprise with the instance
// lookup), credentials from an access key, the ECS RAM role (hardened metadata mode included), RRSA
// with a token file and, in service-account mode, with the kubelet's token; the token's expiry as
// the cache lifetime; and every failure as exit 1, unless onFailure is empty.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { percentEncode } from "../providers/alibaba.js";
import { lookupCredentials } from "../src/match.js";
import { startAlibabaServer, type AlibabaServer } from "./helpers/alibaba-server.js";
import { durationSeconds, execProvider } from "./helpers/provider-exec.js";
import { tempDir } from "./helpers/temp.js";

const PERSONAL = "registry.cn-hangzhou.aliyuncs.com";
const ENTERPRISE = "foobar-registry.cn-hangzhou.cr.aliyuncs.com";
const KEY_ID = "LTAI5tExampleKeyId";
const KEY_SECRET = "exampleAccessKeySecretValue123";
const ROLE_ARN = "acs:ram::1234567890:role/image-puller";
const OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6a3ViZS1zeXN0ZW06bm9kZSJ9.c2ln";

/** An access key with its secret in a file beside the config. */
function accessKey(server: AlibabaServer, dir: string, secret = KEY_SECRET) {
  server.accessKeys.set(KEY_ID, KEY_SECRET);
  fs.writeFileSync(path.join(dir, "ak-secret"), `${secret}\n`, { mode: 0o600 });
  return { accessKeyId: KEY_ID, accessKeySecretFile: "ak-secret" };
}

function exec(server: AlibabaServer, image: string, entry: object, extra: object = {}, requestExtra: object = {}, dir = tempDir(), env: Record<string, string> = {}) {
  const provider = { name: "aliyun", type: "alibaba", apiEndpoint: server.url, metadataEndpoint: server.url, stsEndpoint: server.url, ...entry };
  return execProvider(provider, image, { config: extra, request: requestExtra, dir, env });
}

/** A short deadline for the hanging-endpoint cases, so that they stay cheap. */
const HANG_DEADLINE = { defaults: { timeout: "1s" } };

const apiCalls = (server: AlibabaServer) => server.requests.filter((r) => r.action !== undefined);

test("Personal Edition with an access key: a signed GET /tokens (2016-06-07), the temporary username and token", async () => {
  const server = await startAlibabaServer();
  const dir = tempDir();
  const run = await exec(server, `${PERSONAL}/team/app:1`, accessKey(server, dir), {}, {}, dir);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth[PERSONAL], { username: "cr_temp_user", password: server.issued.registryTokens[0] });
  for (const key of Object.keys(run.response.auth)) assert.ok(`${PERSONAL}/team/app`.startsWith(key), `unexpected key ${key}`);
  assert.equal(run.response.cacheKeyType, "Registry");
  const [call] = apiCalls(server);
  assert.equal(call!.method, "GET");
  assert.equal(call!.path, "/tokens");
  assert.equal(call!.headers["x-acs-version"], "2016-06-07");
  assert.equal(call!.action, "GetAuthorizationToken");
  assert.equal(call!.verified, true);
  assert.match(String(call!.headers.authorization), new RegExp(`^ACS3-HMAC-SHA256 Credential=${KEY_ID},SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=[0-9a-f]{64}$`));
  assert.ok(!run.stderr.includes(KEY_SECRET));
});

test("the token's expireDate is the cache lifetime", async () => {
  const server = await startAlibabaServer();
  const dir = tempDir();
  const entry = accessKey(server, dir);
  for (const [lifetime, expected] of [[3600, 3300], [7200, 6900], [120, 60]] as const) {
    server.tokenLifetimeSeconds = lifetime;
    const run = await exec(server, `${PERSONAL}/team/app`, entry, {}, {}, dir);
    assert.equal(run.status, 0, run.stderr);
    const got = durationSeconds(run.response.cacheDuration);
    assert.ok(got <= expected && got >= expected - 2, `token for ${lifetime}s: cacheDuration ${run.response.cacheDuration}, expected about ${expected}s`);
  }
});

test("Enterprise Edition: the instance id by name through ListInstance (the exact name, not the substring match), then GetAuthorizationToken (2018-12-01)", async () => {
  const server = await startAlibabaServer();
  server.instances.set("foobar2", "cri-other");
  server.instances.set("foobar", "cri-foobar");
  const dir = tempDir();
  const run = await exec(server, `${ENTERPRISE}/ns/app`, accessKey(server, dir), {}, {}, dir);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth[ENTERPRISE], { username: "cr_temp_user", password: server.issued.registryTokens[0] });
  const [list, token] = apiCalls(server);
  assert.equal(list!.action, "ListInstance");
  assert.equal(list!.method, "POST");
  assert.equal(new URL(list!.path, "http://x").searchParams.get("InstanceName"), "foobar");
  assert.equal(list!.headers["x-acs-version"], "2018-12-01");
  assert.equal(list!.verified, true);
  assert.equal(token!.action, "GetAuthorizationToken");
  assert.equal(new URL(token!.path, "http://x").searchParams.get("InstanceId"), "cri-foobar");
  assert.equal(token!.verified, true);

  // Named in the config (a custom domain): no lookup.
  server.requests.length = 0;
  const custom = await exec(server, "registry.example.com/ns/app", { ...accessKey(server, dir), matchImages: ["registry.example.com"], instances: { "registry.example.com": { instanceId: "cri-foobar", region: "cn-hangzhou" } } }, {}, {}, dir);
  assert.equal(custom.status, 0, custom.stderr);
  assert.deepEqual(apiCalls(server).map((r) => r.action), ["GetAuthorizationToken"]);

  const unknown = await exec(server, `nosuch-registry.cn-hangzhou.cr.aliyuncs.com/ns/app`, accessKey(server, dir), {}, {}, dir);
  assert.equal(unknown.status, 1);
  assert.match(unknown.human, /^credmux: provider aliyun: alibaba: no Enterprise Edition instance named "nosuch" in cn-hangzhou for access key LTAI5tExampleKeyId \(check the instance name/);
});

test("the ECS RAM role: metadata session token (hardened mode), the listed role, its STS keys signing with the security token", async () => {
  const server = await startAlibabaServer();
  server.requireMetadataToken = true;
  const run = await exec(server, `${PERSONAL}/team/app`, {});
  assert.equal(run.status, 0, run.stderr);
  const [token, list, role] = server.requests;
  assert.equal(token!.method, "PUT");
  assert.equal(token!.path, "/latest/api/token");
  assert.equal(token!.headers["x-aliyun-ecs-metadata-token-ttl-seconds"], "21600");
  assert.equal(list!.path, "/latest/meta-data/ram/security-credentials/");
  assert.equal(role!.path, "/latest/meta-data/ram/security-credentials/KubernetesWorkerRole");
  assert.ok(role!.headers["x-aliyun-ecs-metadata-token"]);
  const [call] = apiCalls(server);
  assert.equal(call!.verified, true);
  assert.match(String(call!.headers.authorization), new RegExp(`Credential=${server.issued.temporaryKeys[0]},SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-security-token;x-acs-signature-nonce;x-acs-version,`));

  // A named role skips the listing; a metadata server without the token API is read without one.
  server.requireMetadataToken = false;
  server.metadataTokenApi = false;
  server.requests.length = 0;
  const named = await exec(server, `${PERSONAL}/team/app`, { ecsRoleName: "KubernetesWorkerRole" });
  assert.equal(named.status, 0, named.stderr);
  assert.deepEqual(server.requests.slice(0, 2).map((r) => `${r.method} ${r.path}`), ["PUT /latest/api/token", "GET /latest/meta-data/ram/security-credentials/KubernetesWorkerRole"]);

  const wrongRole = await exec(server, `${PERSONAL}/team/app`, { ecsRoleName: "NoSuchRole" });
  assert.equal(wrongRole.status, 1);
  assert.match(wrongRole.stderr, /alibaba: ECS metadata server http:\/\/127\.0\.0\.1:\d+\/latest\/meta-data\/ram\/security-credentials\/NoSuchRole answered HTTP 404 with something other than JSON \(text\/html\) \(check that the instance has a RAM role/);
});

test("RRSA with a token file: anonymous AssumeRoleWithOIDC (query and form fields), then the API signed with the role's keys", async () => {
  const server = await startAlibabaServer();
  server.oidc.roleArns.add(ROLE_ARN);
  server.oidc.tokens.add(OIDC_TOKEN);
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "oidc-token"), OIDC_TOKEN);
  const entry = { roleArn: ROLE_ARN, oidcProviderArn: server.oidc.providerArn, oidcTokenFile: "oidc-token" };
  const run = await exec(server, `${PERSONAL}/team/app`, entry, {}, {}, dir);
  assert.equal(run.status, 0, run.stderr);
  const sts = server.requests[0]!;
  const query = new URL(sts.path, "http://x").searchParams;
  assert.equal(sts.method, "POST");
  assert.deepEqual([query.get("Action"), query.get("Format"), query.get("Version")], ["AssumeRoleWithOIDC", "JSON", "2015-04-01"]);
  assert.match(query.get("Timestamp")!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const form = Object.fromEntries(new URLSearchParams(sts.body));
  assert.equal(form.RoleArn, ROLE_ARN);
  assert.equal(form.OIDCProviderArn, server.oidc.providerArn);
  assert.equal(form.OIDCToken, OIDC_TOKEN);
  assert.equal(form.DurationSeconds, "3600");
  assert.match(form.RoleSessionName!, /^credmux-\d+$/);
  assert.equal(sts.headers.authorization, undefined);
  assert.equal(apiCalls(server)[0]!.verified, true);

  server.oidc.tokens.clear();
  const untrusted = await exec(server, `${PERSONAL}/team/app`, entry, {}, {}, dir);
  assert.equal(untrusted.status, 1);
  assert.match(untrusted.stderr, /alibaba: STS AssumeRoleWithOIDC http:\/\/127\.0\.0\.1:\d+ answered HTTP 400: InvalidParameter\.OIDCToken\.Invalid: The OIDC token is invalid\. \(check the RAM role's trust policy/);
  assert.ok(!untrusted.stderr.includes(OIDC_TOKEN));
});

test("service-account mode: the kubelet's token assumes the role its service account names", async () => {
  const server = await startAlibabaServer();
  const saRole = "acs:ram::1234567890:role/team-a-puller";
  server.oidc.roleArns.add(saRole);
  server.oidc.tokens.add(OIDC_TOKEN);
  const entry = {
    oidcProviderArn: server.oidc.providerArn,
    roleArnAnnotation: "example.com/alibaba-role-arn",
    tokenAttributes: { serviceAccountTokenAudience: "sts.aliyuncs.com", cacheType: "ServiceAccount", requireServiceAccount: true, requiredServiceAccountAnnotationKeys: ["example.com/alibaba-role-arn"] },
  };
  server.instances.set("foobar", "cri-foobar");
  const ok = await exec(server, `${ENTERPRISE}/ns/app`, { ...entry, instances: { [ENTERPRISE]: { instanceId: "cri-foobar", region: "cn-hangzhou" } } }, {}, {
    serviceAccountToken: OIDC_TOKEN, serviceAccountAnnotations: { "example.com/alibaba-role-arn": saRole },
  });
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(ok.response.auth[ENTERPRISE], { username: "cr_temp_user", password: server.issued.registryTokens.at(-1) });
  const sts = server.requests.filter((r) => r.path.includes("Action=AssumeRoleWithOIDC")).at(-1)!;
  assert.equal(new URLSearchParams(sts.body).get("RoleArn"), saRole);
  assert.equal(new URLSearchParams(sts.body).get("OIDCToken"), OIDC_TOKEN);
  assert.ok(!server.requests.some((r) => r.path.startsWith("/latest/")), "the node's RAM role was not asked");
});

test("signatures are checked: a wrong secret or an unknown key is the API's error, named", async () => {
  const server = await startAlibabaServer();
  const dir = tempDir();
  const wrong = await exec(server, `${PERSONAL}/team/app`, accessKey(server, dir, "not-the-secret"), {}, {}, dir);
  assert.equal(wrong.status, 1);
  assert.match(wrong.human, /^credmux: provider aliyun: alibaba: cr GetAuthorizationToken \(2016-06-07\) at http:\/\/127\.0\.0\.1:\d+ answered HTTP 400: SignatureDoesNotMatch: SignatureDoesNotMatch \(check that access key LTAI5tExampleKeyId may call cr:GetAuthorizationToken\)/);
  assert.equal(apiCalls(server)[0]!.verified, false);
  const unknown = await exec(server, `${PERSONAL}/team/app`, { accessKeyId: "LTAIunknown", accessKeySecretFile: "ak-secret" }, {}, {}, dir);
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /answered HTTP 404: InvalidAccessKeyId\.NotFound/);
});

test("refusing endpoints are errors naming them; 503 after bounded retries; connection refused", async () => {
  const server = await startAlibabaServer();
  const dir = tempDir();
  const entry = accessKey(server, dir);
  server.modes.api = "refuse";
  const forbidden = await exec(server, `${PERSONAL}/team/app`, entry, {}, {}, dir);
  assert.equal(forbidden.status, 1);
  assert.equal(forbidden.stdout, "");
  assert.match(forbidden.stderr, /alibaba: cr GetAuthorizationToken \(2016-06-07\) at \S+ answered HTTP 403: Forbidden\.RAM: User not authorized/);

  server.modes.api = "fail";
  server.requests.length = 0;
  const unavailable = await exec(server, `${PERSONAL}/team/app`, entry, { defaults: { timeout: "10s" } }, {}, dir);
  assert.equal(unavailable.status, 1);
  assert.match(unavailable.stderr, /answered HTTP 503/);
  assert.equal(apiCalls(server).length, 3, "three attempts, each signed afresh, then the error");
  assert.equal(new Set(apiCalls(server).map((r) => r.headers["x-acs-signature-nonce"])).size, 3);

  server.modes.api = "ok";
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const refused = await exec(server, `${PERSONAL}/team/app`, { metadataEndpoint: `http://127.0.0.1:${port}` });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, new RegExp(`alibaba: ECS metadata server http://127\\.0\\.0\\.1:${port}/latest/api/token: connection refused`));
});

test("a hanging metadata server, STS or API fails at the deadline", async () => {
  const server = await startAlibabaServer();
  server.oidc.roleArns.add(ROLE_ARN);
  server.oidc.tokens.add(OIDC_TOKEN);
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "oidc-token"), OIDC_TOKEN);
  const rrsa = { roleArn: ROLE_ARN, oidcProviderArn: server.oidc.providerArn, oidcTokenFile: "oidc-token" };
  for (const [part, entry] of [["metadata", {}], ["sts", rrsa], ["api", rrsa]] as const) {
    server.modes[part] = "hang";
    const run = await exec(server, `${PERSONAL}/team/app`, entry, HANG_DEADLINE, {}, dir);
    assert.equal(run.status, 1, part);
    assert.equal(run.stdout, "");
    // The provider names the endpoint that hung (the dispatcher's own line only if it says nothing).
    assert.match(run.human, /^credmux: provider aliyun: alibaba: .*http:\/\/127\.0\.0\.1:\d+\/?\S*: no answer before the deadline/);
    server.modes[part] = "ok";
  }
});

test("malformed or incomplete answers are errors", async () => {
  const server = await startAlibabaServer();
  server.instances.set("foobar", "cri-foobar");
  server.oidc.roleArns.add(ROLE_ARN);
  server.oidc.tokens.add(OIDC_TOKEN);
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "oidc-token"), OIDC_TOKEN);
  const ak = accessKey(server, dir);
  const rrsa = { roleArn: ROLE_ARN, oidcProviderArn: server.oidc.providerArn, oidcTokenFile: "oidc-token" };
  const cases: Array<[keyof AlibabaServer["modes"], "malformed" | "incomplete", string, object, RegExp]> = [
    ["api", "malformed", PERSONAL, ak, /alibaba: cr GetAuthorizationToken \(2016-06-07\) at \S+ answered HTTP 200 with something other than JSON \(text\/html\)/],
    ["api", "incomplete", PERSONAL, ak, /alibaba: cr GetAuthorizationToken \(2016-06-07\) answered without a temporary username and authorization token/],
    ["api", "incomplete", ENTERPRISE, ak, /alibaba: cr GetAuthorizationToken \(2018-12-01\) for cri-foobar answered without a temporary username and authorization token/],
    ["metadata", "incomplete", PERSONAL, {}, /alibaba: ECS metadata server \S+ answered without AccessKeyId, AccessKeySecret and SecurityToken/],
    ["sts", "incomplete", PERSONAL, rrsa, /alibaba: STS AssumeRoleWithOIDC \S+ answered without AccessKeyId, AccessKeySecret and SecurityToken/],
    ["sts", "malformed", PERSONAL, rrsa, /alibaba: STS AssumeRoleWithOIDC \S+ answered HTTP 200 with something other than JSON/],
  ];
  for (const [part, mode, host, entry, expected] of cases) {
    server.modes[part] = mode;
    const run = await exec(server, `${host}/ns/app`, entry, {}, {}, dir);
    assert.equal(run.status, 1, `${part} ${mode}`);
    assert.match(run.stderr, expected);
    server.modes[part] = "ok";
  }
});

test("onFailure: empty turns the failure into an empty, uncached answer; without it there is no exit 0", async () => {
  const server = await startAlibabaServer();
  server.modes.api = "refuse";
  const dir = tempDir();
  const entry = accessKey(server, dir);
  const strict = await exec(server, `${PERSONAL}/team/app`, entry, {}, {}, dir);
  assert.equal(strict.status, 1);
  const lenient = await exec(server, `${PERSONAL}/team/app`, entry, { onFailure: "empty" }, {}, dir);
  assert.equal(lenient.status, 0, lenient.stderr);
  assert.deepEqual(lenient.response.auth, {});
  assert.equal(lenient.response.cacheDuration, "0s");
});

test("a host that is not an ACR endpoint gets nothing, and no credentials are fetched for it", async () => {
  const server = await startAlibabaServer();
  const run = await exec(server, "registry.cn-hangzhou.aliyuncs.com.example.org/team/app", { matchImages: ["*.*.aliyuncs.com.example.org"] });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /alibaba: registry\.cn-hangzhou\.aliyuncs\.com\.example\.org is not an Alibaba Cloud Container Registry endpoint/);
  assert.equal(server.requests.length, 0);
});

test("RFC 3986 percent-encoding for the canonical query", () => {
  for (const [text, encoded] of [["a b", "a%20b"], ["a*b", "a%2Ab"], ["~-._", "~-._"], ["!'()", "%21%27%28%29"], ["é/=&", "%C3%A9%2F%3D%26"]]) {
    assert.equal(percentEncode(text!), encoded);
  }
});

test("no secret reaches the log, even at debug level; the log says which credentials answered", async () => {
  const server = await startAlibabaServer();
  const run = await exec(server, `${PERSONAL}/team/app`, {}, {}, {}, tempDir(), { CREDMUX_LOG_LEVEL: "debug" });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(!run.stderr.includes(server.issued.registryTokens[0]!));
  assert.match(run.stderr, /"msg":"alibaba: registry token"/);
  assert.match(run.stderr, /"via":"ECS RAM role KubernetesWorkerRole"/);
});

test("path-scoped matchImages: each repository under the pattern gets the credential, also when answered from the disk cache", async () => {
  const server = await startAlibabaServer();
  const dir = tempDir();
  const entry = { ...accessKey(server, dir), matchImages: [`${PERSONAL}/team-a`] };
  const extra = { cache: { dir: path.join(dir, "cache") } };
  for (const image of [`${PERSONAL}/team-a/app`, `${PERSONAL}/team-a/tools/lint`]) {
    const run = await exec(server, image, entry, extra, {}, dir);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.response.cacheKeyType, "Image");
    assert.deepEqual(lookupCredentials(Object.entries(run.response.auth), image)[0], { username: "cr_temp_user", password: server.issued.registryTokens[0] }, image);
  }
  assert.equal(server.issued.registryTokens.length, 1, "the second repository was answered from the cache");
});

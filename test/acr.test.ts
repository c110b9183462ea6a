// The acr provider through the built bundle, against a loopback IMDS, Entra token endpoint and ACR
// login server speaking the real wire formats: managed identity (system and user-assigned), a
// service principal's secret file, workload identity with the kubelet-supplied token; the challenge
// and exchange; the refresh token's JWT exp as the cache lifetime; geo-replica and dashed names;
// the realm check; and every failure as exit 1, unless onFailure is empty.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseBearerChallenge, ACR_TOKEN_USERNAME } from "../providers/acr.js";
import { lookupCredentials } from "../src/match.js";
import { startAzureServer, type AzureServer } from "./helpers/azure-server.js";
import { durationSeconds, execProvider } from "./helpers/provider-exec.js";
import { tempDir } from "./helpers/temp.js";

const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YXBwczpwdWxsZXIiLCJhdWQiOlsiYXBpOi8vQXp1cmVBRFRva2VuRXhjaGFuZ2UiXX0.c2ln";
const TOKEN_ATTRIBUTES = {
  serviceAccountTokenAudience: "api://AzureADTokenExchange", cacheType: "ServiceAccount", requireServiceAccount: true,
  optionalServiceAccountAnnotationKeys: ["kubernetes.azure.com/acr-client-id", "kubernetes.azure.com/acr-tenant-id"],
};

function entryFor(server: AzureServer, extra: object = {}) {
  return { name: "azure", type: "acr", imdsEndpoint: server.imdsUrl, authorityHost: server.authorityHost, registryEndpoint: server.registryEndpoint, ...extra };
}

function exec(server: AzureServer, image: string, entry: object = {}, extra: object = {}, requestExtra: object = {}, dir = tempDir(), env: Record<string, string> = {}) {
  return execProvider(entryFor(server, entry), image, { config: extra, request: requestExtra, dir, env });
}

/** A short deadline for the hanging-endpoint cases, so that they stay cheap. */
const HANG_DEADLINE = { defaults: { timeout: "1s" } };

const form = (body: string) => Object.fromEntries(new URLSearchParams(body));

test("managed identity: IMDS token, the registry's challenge and exchange, the refresh token under the 0000 username", async () => {
  const server = await startAzureServer();
  const run = await exec(server, "myregistry.azurecr.io/team/app:1");
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth["myregistry.azurecr.io"], { username: "00000000-0000-0000-0000-000000000000", password: server.issued.refresh[0] });
  for (const key of Object.keys(run.response.auth)) assert.ok("myregistry.azurecr.io/team/app".startsWith(key), `unexpected key ${key}`);
  assert.equal(ACR_TOKEN_USERNAME, "00000000-0000-0000-0000-000000000000");
  assert.equal(run.response.cacheKeyType, "Registry");

  const [imds, v2, exchange] = server.requests;
  assert.equal(imds!.method, "GET");
  assert.equal(imds!.path, "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fcontainerregistry.azure.net");
  assert.equal(imds!.headers.metadata, "true");
  assert.equal(v2!.method, "GET");
  assert.equal(v2!.path, "/myregistry.azurecr.io/v2/");
  assert.equal(exchange!.method, "POST");
  assert.equal(exchange!.path, "/oauth2/exchange");
  assert.equal(exchange!.headers["content-type"], "application/x-www-form-urlencoded");
  const aad = server.issued.aad[0]!;
  assert.deepEqual(form(exchange!.body), {
    grant_type: "access_token_refresh_token",
    service: "myregistry.azurecr.io",
    tenant: server.tenant,
    access_token: aad.token,
    refresh_token: aad.token,
  });
  assert.equal(server.requests.length, 3);
});

test("the refresh token's JWT exp is the cache lifetime: 3h, the 75 minutes users observe, and one shorter than the margin", async () => {
  const server = await startAzureServer();
  for (const [lifetime, expected] of [[3 * 3600, 3 * 3600 - 300], [75 * 60, 70 * 60], [240, 120]] as const) {
    server.refreshLifetimeSeconds = lifetime;
    const run = await exec(server, "myregistry.azurecr.io/app");
    assert.equal(run.status, 0, run.stderr);
    const got = durationSeconds(run.response.cacheDuration);
    assert.ok(got <= expected && got >= expected - 2, `refresh token for ${lifetime}s: cacheDuration ${run.response.cacheDuration}, expected about ${expected}s`);
  }
});

test("user-assigned managed identity by client id or resource id; an unknown one is an error", async () => {
  const server = await startAzureServer();
  server.userAssignedClientIds.add("11111111-2222-3333-4444-555555555555");
  const ok = await exec(server, "myregistry.azurecr.io/app", { clientId: "11111111-2222-3333-4444-555555555555" });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(server.requests[0]!.path, /&client_id=11111111-2222-3333-4444-555555555555$/);
  const resourceId = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/puller";
  server.userAssignedClientIds.add(resourceId);
  const byResource = await exec(server, "myregistry.azurecr.io/app", { identityResourceId: resourceId });
  assert.equal(byResource.status, 0, byResource.stderr);
  assert.ok(server.requests.some((r) => r.path.endsWith(`&msi_res_id=${encodeURIComponent(resourceId)}`)));
  const unknown = await exec(server, "myregistry.azurecr.io/app", { clientId: "99999999-0000-0000-0000-000000000000" });
  assert.equal(unknown.status, 1);
  assert.equal(unknown.stdout, "");
  assert.match(unknown.human, /^credmux: provider azure: acr: managed identity endpoint http:\/\/127\.0\.0\.1:\d+\/metadata\/identity\/oauth2\/token answered HTTP 400: invalid_request: Identity not found \(check that the node has a managed identity/);
});

test("service principal: the secret file (relative to the config) buys an Entra token; the secret itself is never the registry password", async () => {
  const server = await startAzureServer();
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "sp-secret"), "s3cr3t-value-for-sp\n", { mode: 0o600 });
  server.secrets.set("app-id-1", "s3cr3t-value-for-sp");
  const entry = { credential: "servicePrincipal", clientId: "app-id-1", tenantId: server.tenant, clientSecretFile: "sp-secret" };
  const run = await exec(server, "myregistry.azurecr.cn/app", entry, {}, {}, dir);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth["myregistry.azurecr.cn"], { username: ACR_TOKEN_USERNAME, password: server.issued.refresh[0] });
  assert.ok(!run.stdout.includes("s3cr3t-value-for-sp"));
  const token = server.requests[0]!;
  assert.equal(token.path, `/${server.tenant}/oauth2/v2.0/token`);
  assert.deepEqual(form(token.body), { client_id: "app-id-1", client_secret: "s3cr3t-value-for-sp", scope: "https://containerregistry.azure.net/.default", grant_type: "client_credentials" });
  assert.equal(server.issued.aad[0]!.via, "secret");

  fs.writeFileSync(path.join(dir, "sp-secret"), "wrong-secret-value");
  const wrong = await exec(server, "myregistry.azurecr.cn/app", entry, {}, {}, dir);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /acr: Entra token endpoint http:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]+\/oauth2\/v2\.0\/token answered HTTP 401: invalid_client: AADSTS7000215: Invalid client secret provided\. \(check the service principal's client id, tenant id and secret\)/);
  assert.ok(!wrong.stderr.includes("wrong-secret-value"));
  const missing = await exec(server, "myregistry.azurecr.cn/app", { ...entry, clientSecretFile: "no-such-file" }, {}, {}, dir);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /acr: cannot read the client secret file \S+no-such-file \(ENOENT\)/);
});

test("workload identity: the kubelet's service-account token is the client assertion, client and tenant from the annotations", async () => {
  const server = await startAzureServer();
  server.assertions.set("wi-client-1", SA_TOKEN);
  const annotations = { "kubernetes.azure.com/acr-client-id": "wi-client-1", "kubernetes.azure.com/acr-tenant-id": server.tenant };
  const run = await exec(server, "myregistry.azurecr.io/app", { tokenAttributes: TOKEN_ATTRIBUTES }, {}, { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: annotations });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.response.auth["myregistry.azurecr.io"].password, server.issued.refresh[0]);
  assert.deepEqual(form(server.requests[0]!.body), {
    client_id: "wi-client-1",
    scope: "https://containerregistry.azure.net/.default",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: SA_TOKEN,
    grant_type: "client_credentials",
  });
  assert.equal(server.issued.aad[0]!.via, "assertion");
  assert.ok(!server.requests.some((r) => r.path.startsWith("/metadata/")), "the node's identity was not asked");

  // Missing annotation: the upstream plugin's words.
  const missing = await exec(server, "myregistry.azurecr.io/app", { tokenAttributes: TOKEN_ATTRIBUTES }, {}, { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { "kubernetes.azure.com/acr-tenant-id": server.tenant } });
  assert.equal(missing.status, 1);
  assert.match(missing.human, /^credmux: provider azure: acr: client id annotation kubernetes\.azure\.com\/acr-client-id is not found or the value is empty \(/);

  // Configured annotation keys and defaults.
  const custom = await exec(server, "myregistry.azurecr.io/app", {
    tokenAttributes: { ...TOKEN_ATTRIBUTES, optionalServiceAccountAnnotationKeys: ["example.com/client"] },
    workloadIdentity: { clientIdAnnotation: "example.com/client", tenantId: server.tenant },
  }, {}, { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { "example.com/client": "wi-client-1" } });
  assert.equal(custom.status, 0, custom.stderr);

  // A federated credential that does not trust this token.
  server.assertions.set("wi-client-1", "another-token");
  const untrusted = await exec(server, "myregistry.azurecr.io/app", { tokenAttributes: TOKEN_ATTRIBUTES }, {}, { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: annotations });
  assert.equal(untrusted.status, 1);
  assert.match(untrusted.stderr, /AADSTS700213: No matching federated identity record found.*\(check the identity's federated credential/);
});

test("geo-replica and domain-name-label login servers are served under the default matchImages", async () => {
  const server = await startAzureServer();
  const entry = { matchImages: undefined };
  for (const host of ["myregistry.eastus2.geo.azurecr.io", "myregistry-abc123def.azurecr.io", "myregistry-abc123def.westeurope.geo.azurecr.io", "gov.usgovvirginia.geo.azurecr.us"]) {
    const run = await exec(server, `${host}/team/app`, entry);
    assert.equal(run.status, 0, `${host}: ${run.stderr}`);
    assert.ok(Object.keys(run.response.auth).every((key) => `${host}/team/app`.startsWith(key)), Object.keys(run.response.auth).join());
    assert.equal(run.response.auth[host].password, server.issued.refresh.at(-1));
    assert.equal(server.requests.at(-2)!.path, `/${host}/v2/`);
    assert.equal(form(server.requests.at(-1)!.body).service, host);
  }
});

test("a host that is not an ACR login server gets no token: spoofed names, and a realm that is not the registry", async () => {
  const server = await startAzureServer();
  const spoof = await exec(server, "foo.azurecr.io.example/app", { matchImages: ["*.azurecr.io.example"] });
  assert.equal(spoof.status, 1);
  assert.match(spoof.human, /^credmux: provider azure: acr: foo\.azurecr\.io\.example is not an Azure Container Registry login server \(list only ACR login servers in matchImages/);
  assert.equal(server.requests.length, 0, "no token was even asked for");

  // A custom cloud's suffix is served once configured.
  const custom = await exec(server, "foo.azurecr.my.cloud/app", { matchImages: ["*.azurecr.my.cloud"], dnsSuffixes: [".azurecr.my.cloud"] });
  assert.equal(custom.status, 0, custom.stderr);

  server.realmOverride = "https://attacker.example/oauth2/token";
  server.requests.length = 0;
  const realm = await exec(server, "myregistry.azurecr.io/app");
  assert.equal(realm.status, 1);
  assert.match(realm.stderr, /acr: registry myregistry\.azurecr\.io named https:\/\/attacker\.example as its token realm, which is neither the registry nor an ACR login server; refused to send it a token/);
  assert.ok(!server.requests.some((r) => r.path === "/oauth2/exchange"));
});

test("refusing endpoints are errors naming them: IMDS, Entra, the challenge, the exchange; 503 after bounded retries", async () => {
  const server = await startAzureServer();
  const cases: Array<[keyof AzureServer["modes"], RegExp]> = [
    ["imds", /acr: managed identity endpoint \S+ answered HTTP 400: invalid_request: Identity not found/],
    ["challenge", /acr: registry myregistry\.azurecr\.io \(http:\/\/127\.0\.0\.1:\d+\/myregistry\.azurecr\.io\/v2\/\) did not issue a valid Azure AD challenge \(HTTP 404, no single WWW-Authenticate header\) \(check that the host is an Azure Container Registry login server\)/],
    ["exchange", /acr: ACR token exchange http:\/\/127\.0\.0\.1:\d+\/oauth2\/exchange answered HTTP 401 \(check that the managed identity has a pull role \(AcrPull\) on myregistry\.azurecr\.io\)/],
  ];
  for (const [endpoint, expected] of cases) {
    server.modes[endpoint] = "refuse";
    const run = await exec(server, "myregistry.azurecr.io/app");
    assert.equal(run.status, 1, endpoint);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, expected);
    server.modes[endpoint] = "ok";
  }
  server.modes.exchange = "fail";
  server.requests.length = 0;
  const unavailable = await exec(server, "myregistry.azurecr.io/app", {}, { defaults: { timeout: "10s" } });
  assert.equal(unavailable.status, 1);
  assert.match(unavailable.stderr, /ACR token exchange \S+ answered HTTP 503/);
  assert.equal(server.requests.filter((r) => r.path === "/oauth2/exchange").length, 3, "three attempts, then the error");
});

test("a hanging IMDS, registry or exchange fails at the deadline", async () => {
  const server = await startAzureServer();
  for (const endpoint of ["imds", "challenge", "exchange"] as const) {
    server.modes[endpoint] = "hang";
    const run = await exec(server, "myregistry.azurecr.io/app", {}, HANG_DEADLINE);
    assert.equal(run.status, 1, endpoint);
    assert.equal(run.stdout, "");
    // The provider names the endpoint that hung (the dispatcher's own line only if it says nothing).
    assert.match(run.human, /^credmux: provider azure: acr: .*http:\/\/127\.0\.0\.1:\d+\/\S+: no answer before the deadline/);
    server.modes[endpoint] = "ok";
  }
});

test("malformed or incomplete answers are errors", async () => {
  const server = await startAzureServer();
  const cases: Array<[keyof AzureServer["modes"], "malformed" | "incomplete", RegExp]> = [
    ["imds", "malformed", /acr: managed identity endpoint \S+ answered HTTP 200 with something other than JSON \(text\/html\)/],
    ["imds", "incomplete", /acr: managed identity endpoint \S+ answered without an access_token/],
    ["challenge", "incomplete", /acr: registry myregistry\.azurecr\.io \(\S+\): WWW-Authenticate has no realm/],
    ["exchange", "malformed", /acr: ACR token exchange \S+ answered HTTP 200 with something other than JSON/],
    ["exchange", "incomplete", /acr: ACR token exchange \S+ answered without a refresh_token/],
  ];
  for (const [endpoint, mode, expected] of cases) {
    server.modes[endpoint] = mode;
    const run = await exec(server, "myregistry.azurecr.io/app");
    assert.equal(run.status, 1, `${endpoint} ${mode}`);
    assert.match(run.stderr, expected);
    server.modes[endpoint] = "ok";
  }
});

test("onFailure: empty turns the failure into an empty, uncached answer; without it there is no exit 0", async () => {
  const server = await startAzureServer();
  server.modes.exchange = "refuse";
  const strict = await exec(server, "myregistry.azurecr.io/app");
  assert.equal(strict.status, 1);
  const lenient = await exec(server, "myregistry.azurecr.io/app", {}, { onFailure: "empty" });
  assert.equal(lenient.status, 0, lenient.stderr);
  assert.deepEqual(lenient.response.auth, {});
  assert.equal(lenient.response.cacheDuration, "0s");
});

test("Bearer challenges: quoted, unquoted and escaped values; anything else is refused", () => {
  const cases: Array<[string, Record<string, string> | undefined]> = [
    ['Bearer realm="https://r.azurecr.io/oauth2/token",service="r.azurecr.io"', { realm: "https://r.azurecr.io/oauth2/token", service: "r.azurecr.io" }],
    ['bearer realm="https://r/oauth2/token", service="r", scope="repository:a:pull,push"', { realm: "https://r/oauth2/token", service: "r", scope: "repository:a:pull,push" }],
    // Upstream's parser slices at index -1 here; this one reads it.
    ['Bearer service="r",realm=https://r/oauth2/token', { service: "r", realm: "https://r/oauth2/token" }],
    ['Bearer realm="a\\"b",service="s"', { realm: 'a"b', service: "s" }],
    ['Basic realm="r"', undefined],
    ['Bearer realm="unterminated', undefined],
    ["Bearer realm", undefined],
  ];
  for (const [header, expected] of cases) assert.deepEqual(parseBearerChallenge(header), expected, header);
});

test("no token reaches the log, even at debug level; the log says which identity answered", async () => {
  const server = await startAzureServer();
  const run = await exec(server, "myregistry.azurecr.io/app", {}, {}, {}, tempDir(), { CREDMUX_LOG_LEVEL: "debug" });
  assert.equal(run.status, 0, run.stderr);
  for (const secret of [server.issued.aad[0]!.token, server.issued.refresh[0]!]) assert.ok(!run.stderr.includes(secret));
  assert.match(run.stderr, /"msg":"acr: refresh token"/);
  assert.match(run.stderr, /"via":"managed identity"/);
});

test("path-scoped matchImages: each repository under the pattern gets the credential, also when answered from the disk cache", async () => {
  const server = await startAzureServer();
  const dir = tempDir();
  const entry = { matchImages: ["shared.azurecr.io/team-a"] };
  const extra = { cache: { dir: path.join(dir, "cache") } };
  for (const image of ["shared.azurecr.io/team-a/app", "shared.azurecr.io/team-a/tools/lint"]) {
    const run = await exec(server, image, entry, extra, {}, dir);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.response.cacheKeyType, "Image");
    assert.deepEqual(lookupCredentials(Object.entries(run.response.auth), image)[0], { username: ACR_TOKEN_USERNAME, password: server.issued.refresh[0] }, image);
  }
  assert.equal(server.issued.refresh.length, 1, "the second repository was answered from the cache");
});

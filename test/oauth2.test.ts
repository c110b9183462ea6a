// The oauth2 provider against a loopback token endpoint that checks every form field: both grants,
// every way of authenticating the client, expires_in as the cache lifetime, the endpoint's errors
// verbatim on one line, TLS with a CA file and through a proxy, and every bad input, with no secret
// ever on stderr.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import oauth2, { TOKEN_EXCHANGE_GRANT } from "../providers/oauth2.js";
import { SecretSet } from "../src/secrets.js";
import type { CredentialRequest, ProviderEnv } from "../src/provider.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { startConnectProxy } from "./helpers/connect-proxy.js";
import { startOAuthServer, type OAuthExpectation } from "./helpers/oauth-server.js";
import { runBundle } from "./helpers/run-bundle.js";
import { makeTestCertificates } from "./helpers/test-ca.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1" as const;
const NOW = Date.parse("2026-11-23T10:00:00Z");
const REGISTRY = "registry.oauth.test";
const CLIENT_SECRET = "client-secret-Zq81xv";
const SA_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGV2OmFwcCJ9.sa-token-signature";
const JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt";

function providerEnv(configDir: string, overrides: Partial<ProviderEnv> = {}): ProviderEnv & { log: CaptureLog } {
  return { name: "idp", log: new CaptureLog(), secrets: new SecretSet(), now: () => NOW, env: {}, cwd: configDir, configDir, ...overrides } as ProviderEnv & { log: CaptureLog };
}

function makeProvider(options: Record<string, unknown>, env: ProviderEnv) {
  const parsed = oauth2.options().safeParse(options);
  assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.error.issues));
  return oauth2.create(parsed.data, env);
}

function secretDir(): { dir: string; secretFile: string } {
  const dir = tempDir();
  const secretFile = path.join(dir, "client-secret");
  fs.writeFileSync(secretFile, `${CLIENT_SECRET}\n`);
  return { dir, secretFile };
}

const request = (extra: Partial<CredentialRequest> = {}): CredentialRequest => ({ image: `${REGISTRY}/team/app`, registry: REGISTRY, apiVersion: V1, ...extra });
const signal = () => AbortSignal.timeout(10_000);

/** The grants of the table: the provider's options, and every field the endpoint must receive. */
const grantCases: Array<{ name: string; options: Record<string, unknown>; expect: OAuthExpectation; request?: Partial<CredentialRequest>; subjectTokenFile?: string }> = [
  {
    name: "client_credentials, HTTP Basic client authentication, audience/scope/resource",
    options: { grant: "client_credentials", clientId: "node robot", clientSecretFile: "client-secret", audience: "registry.oauth.test", scope: ["repo:pull", "repo:list"], resource: "https://registry.oauth.test/" },
    expect: {
      clientAuth: "basic", clientId: "node robot", clientSecret: CLIENT_SECRET,
      fields: { grant_type: ["client_credentials"], audience: ["registry.oauth.test"], scope: ["repo:pull repo:list"], resource: ["https://registry.oauth.test/"] },
    },
  },
  {
    name: "client_credentials, client secret in the form",
    options: { grant: "client_credentials", clientId: "robot", clientSecretFile: "client-secret", clientAuth: "body", scope: "pull" },
    expect: { clientAuth: "body", clientId: "robot", clientSecret: CLIENT_SECRET, fields: { grant_type: ["client_credentials"], scope: ["pull"] } },
  },
  {
    name: "token_exchange of the kubelet's service-account token, two audiences and resources, public client",
    options: { grant: "token_exchange", clientId: "kubelet", audience: ["harbor", "quay"], resource: ["https://a.test/", "https://b.test/"], requestedTokenType: "urn:ietf:params:oauth:token-type:access_token" },
    request: { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { "example.test/role": "puller" } },
    expect: {
      clientAuth: "body", clientId: "kubelet",
      fields: {
        grant_type: [TOKEN_EXCHANGE_GRANT], subject_token: [SA_TOKEN], subject_token_type: [JWT_TYPE],
        requested_token_type: ["urn:ietf:params:oauth:token-type:access_token"], audience: ["harbor", "quay"], resource: ["https://a.test/", "https://b.test/"],
      },
    },
  },
  {
    name: "token_exchange of a token file, its own token type, confidential client",
    options: { grant: "token_exchange", subjectTokenFile: "subject-token", subjectTokenType: "urn:ietf:params:oauth:token-type:id_token", clientId: "exchanger", clientSecretFile: "client-secret", scope: "registry" },
    subjectTokenFile: "id-token-from-file-8812",
    expect: {
      clientAuth: "basic", clientId: "exchanger", clientSecret: CLIENT_SECRET,
      fields: { grant_type: [TOKEN_EXCHANGE_GRANT], subject_token: ["id-token-from-file-8812"], subject_token_type: ["urn:ietf:params:oauth:token-type:id_token"], scope: ["registry"] },
    },
  },
  {
    name: "token_exchange without client authentication",
    options: { grant: "token_exchange", audience: "registry" },
    request: { serviceAccountToken: SA_TOKEN },
    expect: { clientAuth: "none", fields: { grant_type: [TOKEN_EXCHANGE_GRANT], subject_token: [SA_TOKEN], subject_token_type: [JWT_TYPE], audience: ["registry"] } },
  },
];

test("both grants send exactly the form fields and client authentication the RFCs define", async () => {
  for (const grant of grantCases) {
    const server = await startOAuthServer(grant.expect);
    server.mode = { kind: "token", expiresIn: 900 };
    const { dir } = secretDir();
    if (grant.subjectTokenFile) fs.writeFileSync(path.join(dir, "subject-token"), `${grant.subjectTokenFile}\n`);
    const env = providerEnv(dir);
    const fn = makeProvider({ tokenUrl: server.url, username: "oauth2accesstoken", ...grant.options }, env);
    const result = await fn(request(grant.request), signal());
    assert.equal(server.requests.length, 1, grant.name);
    assert.deepEqual(result.auth, { [REGISTRY]: { username: "oauth2accesstoken", password: server.issued[0] } }, grant.name);
    assert.equal(result.expiresAt?.getTime(), NOW + 900_000, `${grant.name}: expires_in is the expiry`);
    const used = [server.issued[0]!, grant.expect.clientSecret, grant.request?.serviceAccountToken, grant.subjectTokenFile].filter((value): value is string => value !== undefined);
    for (const secret of used) assert.equal(env.secrets.mask(secret), "***", `${grant.name}: remembered for masking`);
    await server.close();
  }
});

test("the endpoint's check is real: a wrong field is refused, naming it", async () => {
  const server = await startOAuthServer({ clientAuth: "basic", clientId: "robot", clientSecret: CLIENT_SECRET, fields: { grant_type: ["client_credentials"], scope: ["pull"] } });
  const { dir } = secretDir();
  const fn = makeProvider({ tokenUrl: server.url, grant: "client_credentials", username: "u", clientId: "robot", clientSecretFile: "client-secret", scope: "push" }, providerEnv(dir));
  await assert.rejects(fn(request(), signal()), (error: Error) => {
    assert.equal(error.message, `token endpoint ${server.url} answered HTTP 400: invalid_request: field scope: got ["push"], expected ["pull"]`);
    return true;
  });
});

test("expires_in becomes the cache lifetime, and the token is fetched once across execs", async () => {
  const server = await startOAuthServer({ clientAuth: "basic", clientId: "robot", clientSecret: CLIENT_SECRET, fields: { grant_type: ["client_credentials"] } });
  server.mode = { kind: "token", expiresIn: 3600 };
  const { dir } = secretDir();
  const config = writeConfig(dir, {
    cache: { dir: path.join(dir, "cache") },
    defaults: { expiryMargin: "1m" },
    providers: [{ name: "idp", type: "oauth2", matchImages: [REGISTRY], tokenUrl: server.url, grant: "client_credentials", username: "robot", clientId: "robot", clientSecretFile: "client-secret" }],
  });
  const stdin = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: `${REGISTRY}/team/app` })}\n`;
  const first = await runBundle(["--config", config], { stdin });
  assert.equal(first.status, 0, first.stderr);
  const response = JSON.parse(first.stdout);
  assert.deepEqual(response.auth, { [REGISTRY]: { username: "robot", password: server.issued[0] } });
  // 3600 s less the 1m margin; a second or two may pass between the answer and the response.
  assert.match(response.cacheDuration, /^(59m0s|58m5\ds)$/);
  const second = await runBundle(["--config", config], { stdin });
  assert.equal(second.status, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout).auth[REGISTRY].password, server.issued[0]);
  assert.equal(server.requests.length, 1, "the second exec is answered from the cache");
});

test("invalid_grant becomes one line naming the provider and the endpoint, with the endpoint's words and a hint", async () => {
  const server = await startOAuthServer({ clientAuth: "none", fields: { grant_type: [TOKEN_EXCHANGE_GRANT], subject_token: [SA_TOKEN], subject_token_type: [JWT_TYPE] } });
  // The description echoes the subject token, as some servers do: credmux must mask it.
  server.mode = { kind: "error", status: 400, error: "invalid_grant", description: `subject token ${SA_TOKEN} has the wrong audience` };
  const dir = tempDir();
  const config = writeConfig(dir, {
    providers: [{
      name: "exchange", type: "oauth2", matchImages: [REGISTRY], tokenUrl: server.url, grant: "token_exchange", username: "u",
      tokenAttributes: { serviceAccountTokenAudience: "registry", cacheType: "ServiceAccount", requireServiceAccount: true },
    }],
  });
  const stdin = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: `${REGISTRY}/app`, serviceAccountToken: SA_TOKEN })}\n`;
  const run = await runBundle(["--config", config, "--log-level", "debug"], { stdin });
  assert.equal(run.status, 1);
  assert.equal(run.stdout, "");
  const lines = run.stderr.split("\n").filter((line) => line.startsWith("credmux: "));
  assert.deepEqual(lines, [
    `credmux: provider exchange (oauth2): token endpoint ${server.url} answered HTTP 400: invalid_grant: subject token *** has the wrong audience ` +
    "(the identity provider refused the grant: check the subject token (its audience is tokenAttributes.serviceAccountTokenAudience) and the trust configured for its issuer)",
  ]);
  assert.equal(run.stderr.includes(SA_TOKEN), false);
  assert.equal(server.requests.length, 1, "a 400 is not retried");
});

test("TLS: the endpoint is verified against caFile, directly and through HTTPS_PROXY", async () => {
  const dir = tempDir();
  const certs = makeTestCertificates(path.join(dir, "tls"), ["127.0.0.1"]);
  const server = await startOAuthServer({ clientAuth: "basic", clientId: "robot", clientSecret: CLIENT_SECRET, fields: { grant_type: ["client_credentials"] } }, certs);
  server.mode = { kind: "token", expiresIn: 600 };
  fs.writeFileSync(path.join(dir, "client-secret"), CLIENT_SECRET);
  const base = { tokenUrl: server.url, grant: "client_credentials", username: "robot", clientId: "robot", clientSecretFile: "client-secret" };

  const direct = await makeProvider({ ...base, caFile: "tls/ca.crt" }, providerEnv(dir))(request(), signal());
  assert.equal(direct.auth[REGISTRY]!.password, server.issued[0]);

  const proxy = await startConnectProxy({ tunnelTo: server.server as import("node:tls").Server });
  const proxied = await makeProvider({ ...base, caFile: "tls/ca.crt" }, providerEnv(dir, { env: { HTTPS_PROXY: proxy.url } }))(request(), signal());
  assert.equal(proxied.auth[REGISTRY]!.password, server.issued[1]);
  assert.deepEqual(proxy.seen, [new URL(server.url).host], "the request went through the proxy");

  await assert.rejects(makeProvider(base, providerEnv(dir))(request(), signal()), (error: Error) => {
    assert.equal(error.message, `token endpoint ${server.url}: UNABLE_TO_VERIFY_LEAF_SIGNATURE`);
    return true;
  }, "without caFile, the test CA is not trusted");
  assert.equal(server.requests.length, 2);
});

test("plain http goes through HTTP_PROXY unless NO_PROXY exempts the host", async () => {
  const server = await startOAuthServer({ clientAuth: "none", fields: { grant_type: [TOKEN_EXCHANGE_GRANT], subject_token: [SA_TOKEN], subject_token_type: [JWT_TYPE] } });
  const forwarded: string[] = [];
  const proxy = await startConnectProxy({
    forward: (req, res) => {
      forwarded.push(req.url ?? "");
      const upstream = require("node:http").request(server.url, { method: req.method, headers: req.headers }, (answer: import("node:http").IncomingMessage) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
    },
  });
  const options = { tokenUrl: server.url, grant: "token_exchange", username: "u" };
  const viaProxy = await makeProvider(options, providerEnv(tempDir(), { env: { HTTP_PROXY: proxy.url } }))(request({ serviceAccountToken: SA_TOKEN }), signal());
  assert.equal(viaProxy.auth[REGISTRY]!.password, server.issued[0]);
  assert.deepEqual(forwarded, [server.url]);
  await makeProvider(options, providerEnv(tempDir(), { env: { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" } }))(request({ serviceAccountToken: SA_TOKEN }), signal());
  assert.equal(forwarded.length, 1, "NO_PROXY bypasses the proxy");
  assert.equal(server.requests.length, 2);
});

test("expiry: expires_in as a numeric string, or a JWT access token's exp when expires_in is absent", async () => {
  const server = await startOAuthServer({ clientAuth: "none", fields: { grant_type: [TOKEN_EXCHANGE_GRANT], subject_token: [SA_TOKEN], subject_token_type: [JWT_TYPE] } });
  const fn = makeProvider({ tokenUrl: server.url, grant: "token_exchange", username: "u" }, providerEnv(tempDir()));
  server.mode = { kind: "token", expiresIn: "120" };
  assert.equal((await fn(request({ serviceAccountToken: SA_TOKEN }), signal())).expiresAt?.getTime(), NOW + 120_000);
  const exp = NOW / 1000 + 7200;
  const jwt = `eyJhbGciOiJub25lIn0.${Buffer.from(JSON.stringify({ exp })).toString("base64url")}.sig`;
  server.mode = { kind: "token", accessToken: jwt };
  assert.equal((await fn(request({ serviceAccountToken: SA_TOKEN }), signal())).expiresAt?.getTime(), exp * 1000);
  server.mode = { kind: "token" };
  assert.equal((await fn(request({ serviceAccountToken: SA_TOKEN }), signal())).expiresAt, undefined, "no expiry known: the default cacheDuration applies");
});

test("options are checked when the config is loaded", () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["client_credentials without clientId", { tokenUrl: "https://idp.test/token", grant: "client_credentials", username: "u" }, /needs clientId/],
    ["clientSecretFile without clientId", { tokenUrl: "https://idp.test/token", grant: "token_exchange", username: "u", clientSecretFile: "s" }, /clientSecretFile needs clientId/],
    ["subjectTokenFile with client_credentials", { tokenUrl: "https://idp.test/token", grant: "client_credentials", username: "u", clientId: "c", subjectTokenFile: "t" }, /belong to grant token_exchange/],
    ["a tokenUrl that is not http(s)", { tokenUrl: "ftp://idp.test/token", grant: "token_exchange", username: "u" }, /http:\/\/ or https:\/\/ URL/],
    ["an unknown grant", { tokenUrl: "https://idp.test/token", grant: "password", username: "u" }, /./],
    ["no username", { tokenUrl: "https://idp.test/token", grant: "token_exchange" }, /./],
  ];
  for (const [name, options, message] of cases) {
    const parsed = oauth2.options().safeParse(options);
    assert.equal(parsed.success, false, name);
    if (!parsed.success) assert.match(parsed.error.issues.map((issue) => issue.message).join("; "), message, name);
  }
});

test("bad input fails with one line and leaks no secret: missing and empty files, HTML, no token, slow and hanging endpoints", async () => {
  const server = await startOAuthServer({ clientAuth: "basic", clientId: "robot", clientSecret: CLIENT_SECRET, fields: { grant_type: ["client_credentials"] } });
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "client-secret"), CLIENT_SECRET);
  fs.writeFileSync(path.join(dir, "empty-secret"), " \n");
  const provider = (extra: Record<string, unknown> = {}) => ({
    name: "idp", type: "oauth2", matchImages: [REGISTRY], tokenUrl: server.url, grant: "client_credentials", username: "robot", clientId: "robot", clientSecretFile: "client-secret", ...extra,
  });
  const stdin = (extra: object = {}) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: `${REGISTRY}/app`, ...extra })}\n`;
  const cases: Array<{ name: string; provider: Record<string, unknown>; mode?: typeof server.mode; delayMs?: number; timeout?: string; line: string | RegExp }> = [
    { name: "missing secret file", provider: provider({ clientSecretFile: "nope" }), line: `credmux: provider idp (oauth2): clientSecretFile ${dir}/nope: no such file (check the path (relative paths are resolved against the credmux config's directory) and that the secret is mounted)` },
    { name: "empty secret file", provider: provider({ clientSecretFile: "empty-secret" }), line: `credmux: provider idp (oauth2): clientSecretFile ${dir}/empty-secret: empty (the file must hold the secret itself; check what writes or mounts it)` },
    { name: "missing CA file", provider: provider({ caFile: "no-ca.pem" }), line: new RegExp(`^credmux: provider idp \\(oauth2\\): token endpoint \\S+: cannot read the CA bundle ${dir}/no-ca.pem \\(ENOENT\\)$`) },
    { name: "HTML answer", provider: provider(), mode: { kind: "html" }, line: `credmux: provider idp (oauth2): token endpoint ${server.url} answered HTTP 200 with something other than JSON (text/html)` },
    { name: "no access_token", provider: provider(), mode: { kind: "token", accessToken: "" }, line: `credmux: provider idp (oauth2): token endpoint ${server.url} answered without an access_token (the endpoint answered 2xx but gave no token; check grant and the endpoint's logs)` },
    { name: "negative expires_in", provider: provider(), mode: { kind: "token", expiresIn: -5 }, line: `credmux: provider idp (oauth2): token endpoint ${server.url} answered an expires_in that is not a positive number of seconds` },
    { name: "invalid_client", provider: provider(), mode: { kind: "error", status: 401, error: "invalid_client" }, line: `credmux: provider idp (oauth2): token endpoint ${server.url} answered HTTP 401: invalid_client (check clientId, clientSecretFile and clientAuth against the client registered at the identity provider)` },
    { name: "slow endpoint", provider: provider(), delayMs: 3000, timeout: "1s", line: `credmux: provider idp (oauth2): token endpoint ${server.url}: no answer before the deadline (check that the endpoint is reachable from the node)` },
    { name: "hanging endpoint", provider: provider(), mode: { kind: "hang" }, timeout: "1s", line: `credmux: provider idp (oauth2): token endpoint ${server.url}: no answer before the deadline (check that the endpoint is reachable from the node)` },
    { name: "token_exchange without a subject token", provider: provider({ grant: "token_exchange", clientId: undefined, clientSecretFile: undefined }), line: /^credmux: provider idp \(oauth2\): grant token_exchange has no subject token: .* \(give this provider tokenAttributes/ },
  ];
  for (const c of cases) {
    server.mode = c.mode ?? { kind: "token", expiresIn: 600, accessToken: "issued-access-token-55" };
    server.delayMs = c.delayMs ?? 0;
    const config = writeConfig(dir, { defaults: { timeout: c.timeout ?? "10s" }, providers: [c.provider] });
    const run = await runBundle(["--config", config, "--log-level", "debug"], { stdin: stdin() });
    assert.equal(run.status, 1, c.name);
    assert.equal(run.stdout, "", c.name);
    const lines = run.stderr.split("\n").filter((line) => line.startsWith("credmux: "));
    assert.equal(lines.length, 1, `${c.name}: ${run.stderr}`);
    // The deadline error may come from the dispatcher or from the HTTP client, whichever fires first.
    if (c.timeout) assert.ok(lines[0] === c.line || lines[0] === "credmux: provider idp (oauth2): no answer within 1s (the deadline is defaults.timeout; check that the provider's upstream is reachable)", `${c.name}: ${lines[0]}`);
    else if (typeof c.line === "string") assert.equal(lines[0], c.line, c.name);
    else assert.match(lines[0]!, c.line, c.name);
    for (const secret of [CLIENT_SECRET, "issued-access-token-55"]) assert.equal(run.stderr.includes(secret), false, `${c.name}: ${secret} leaked to stderr`);
  }
});

test("a server error is retried within the deadline, then reported with the endpoint's words", async () => {
  const server = await startOAuthServer({ clientAuth: "none", fields: { grant_type: [TOKEN_EXCHANGE_GRANT], subject_token: [SA_TOKEN], subject_token_type: [JWT_TYPE] } });
  server.mode = { kind: "error", status: 503, error: "temporarily_unavailable", description: "try later" };
  const fn = makeProvider({ tokenUrl: server.url, grant: "token_exchange", username: "u" }, providerEnv(tempDir()));
  await assert.rejects(fn(request({ serviceAccountToken: SA_TOKEN }), signal()), (error: Error) => {
    assert.equal(error.message, `token endpoint ${server.url} answered HTTP 503: temporarily_unavailable: try later`);
    return true;
  });
  assert.equal(server.requests.length, 3, "three attempts in all");
});

// The ECR provider end to end: the built bundle, run as the kubelet runs it, against a loopback AWS
// (test/helpers/aws-server.ts) that checks every request's target, region and signature. Also, in
// process: that a request for another provider never loads the AWS SDK, and that a FIPS host's call
// goes to the FIPS endpoint name when no endpoint is configured.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { Readable } from "node:stream";
import { loadConfig } from "../src/config.js";
import type { EcrSdk } from "../providers/ecr.js";
import { Dispatcher } from "../src/dispatch.js";
import { SecretSet } from "../src/secrets.js";
import { createEcrProvider } from "../providers/ecr.js";
import { startAwsServer, type AwsServer } from "./helpers/aws-server.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { runBundle, type BundleRun } from "./helpers/run-bundle.js";
import { FIXTURES, REPO_ROOT } from "./helpers/paths.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const NODE_KEY = { accessKeyId: "AKIDNODEEXAMPLE00001", secretAccessKey: "node/Secret+Key/EXAMPLE/0123456789abcdef" };
const PRIVATE = "111122223333.dkr.ecr.us-west-2.amazonaws.com";
const CROSS_ACCOUNT = "444455556666.dkr.ecr.eu-central-1.amazonaws.com";
const PULL_ROLE = "arn:aws:iam::444455556666:role/pull";
const POD_ROLE = "arn:aws:iam::111122223333:role/pod-pull";
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.service-account-token-for-tests.signature";
const TOKEN_ATTRIBUTES = {
  serviceAccountTokenAudience: "sts.amazonaws.com",
  cacheType: "ServiceAccount",
  requireServiceAccount: false,
  optionalServiceAccountAnnotationKeys: ["eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"],
};

interface Setup {
  server: AwsServer;
  dir: string;
  config: string;
}

/** A loopback AWS that knows the node's key, and a credmux config with one ecr provider. */
async function setup(provider: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<Setup> {
  const server = await startAwsServer();
  server.addIdentity(NODE_KEY);
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "ecr", type: "ecr", ...provider }], ...extra });
  return { server, dir, config };
}

/** The environment of a node with the node's keys, every AWS endpoint at the loopback server, and no way to the real metadata service. */
function nodeEnv(s: Setup, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    HOME: s.dir,
    AWS_ACCESS_KEY_ID: NODE_KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: NODE_KEY.secretAccessKey,
    AWS_ENDPOINT_URL: s.server.url,
    AWS_CONFIG_FILE: path.join(s.dir, "no-aws-config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(s.dir, "no-aws-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    ...extra,
  };
}

function request(image: string, more: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ apiVersion: V1, kind: "CredentialProviderRequest", image, ...more })}\n`;
}

async function exec(s: Setup, image: string, options: { env?: Record<string, string | undefined>; more?: Record<string, unknown>; args?: string[]; timeoutMs?: number } = {}) {
  return runBundle(["--config", s.config, ...(options.args ?? [])], {
    stdin: request(image, options.more), env: nodeEnv(s, options.env), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
}

function answer(run: BundleRun) {
  assert.equal(run.status, 0, `credmux failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { cacheKeyType: string; cacheDuration: string; auth: Record<string, { username: string; password: string }> };
}

/** The one line a failing exec prints, with nothing on stdout. */
function failureLine(run: BundleRun): string {
  assert.equal(run.status, 1, `expected a failure, got stdout ${run.stdout}`);
  assert.equal(run.stdout, "");
  const lines = run.human.split("\n").filter((line) => line !== "");
  assert.equal(lines.length, 1, `expected one stderr line, got:\n${run.stderr}`);
  return lines[0]!;
}

/** Whole seconds of a Go duration of the form XhYmZs. */
function seconds(duration: string): number {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(duration);
  assert.ok(match, duration);
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}

const loadedAwsSdk = () => Object.keys(require.cache).filter((file) => file.includes(`${path.sep}@aws-sdk${path.sep}`));

/**
 * Provider entries for in-process tests. Transpiled to CommonJS in .build/, the registry's
 * `import("./ecr.js")` yields the module's exports object as `default`, which the loader refuses;
 * `type: module` loads the same provider modules with require().
 */
const inProcess = (type: "ecr" | "dockercfg", entry: Record<string, unknown>) => ({ type: "module", module: path.join(REPO_ROOT, ".build", "providers", `${type}.js`), ...entry });

// First in the file: the tests below load the SDK into this process.
test("a request for another provider does not load the AWS SDK, though an ecr provider is configured (in process)", async () => {
  assert.deepEqual(loadedAwsSdk(), [], "the AWS SDK was loaded before this test; it must run first in its file");
  const dir = tempDir();
  const dockerConfig = path.join(dir, "docker-config.json");
  fs.writeFileSync(dockerConfig, JSON.stringify({ auths: { "registry.example.test": { auth: Buffer.from("user:registry-password").toString("base64") } } }));
  const config = await loadConfig(writeConfig(dir, {
    providers: [
      inProcess("dockercfg", { name: "registry", matchImages: ["registry.example.test"], files: [dockerConfig] }),
      inProcess("ecr", { name: "ecr" }),
    ],
  }));
  // Loading the config loaded the ecr provider's module: it must not have pulled in the SDK either.
  assert.equal((await config.providers[1]!.definition()).type, "ecr");
  assert.deepEqual(loadedAwsSdk(), []);
  const dispatcher = new Dispatcher(config, { log: new CaptureLog(), secrets: new SecretSet(), now: Date.now, env: {}, cwd: dir });
  const resolution = await dispatcher.resolve({ apiVersion: V1, image: "registry.example.test/team/app" });
  assert.equal(resolution.failure, undefined);
  assert.deepEqual(resolution.response.auth, { "registry.example.test": { username: "user", password: "registry-password" } });
  // The ecr provider did not match, so it was not asked, and nothing required the SDK.
  assert.equal(resolution.outcomes[1]!.matchedPattern, undefined);
  assert.deepEqual(loadedAwsSdk(), []);
});

test("a request for another provider does not load the AWS SDK (the bundle, with a test-only preload that records deferred loads)", async () => {
  const s = await setup();
  const dockerConfig = path.join(s.dir, "docker-config.json");
  fs.writeFileSync(dockerConfig, JSON.stringify({ auths: { "registry.example.test": { auth: Buffer.from("user:registry-password").toString("base64") } } }));
  fs.writeFileSync(s.config, JSON.stringify({
    apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: "" },
    providers: [
      { name: "registry", type: "dockercfg", matchImages: ["registry.example.test"], files: [dockerConfig] },
      { name: "ecr", type: "ecr" },
    ],
  }));
  const loads = path.join(s.dir, "deferred-loads.txt");
  const env = { NODE_OPTIONS: `--require ${path.join(FIXTURES, "ecr", "record-deferred-loads.js")}`, CREDMUX_TEST_DEFERRED_LOG: loads };
  const other = answer(await exec(s, "registry.example.test/team/app", { env }));
  assert.deepEqual(Object.keys(other.auth), ["registry.example.test"]);
  const afterOther = fs.existsSync(loads) ? fs.readFileSync(loads, "utf8") : "";
  assert.ok(!afterOther.includes("providers/ecr-sdk"), afterOther);
  // The same preload sees the SDK load when an ECR image is asked for, so the check above can fail.
  answer(await exec(s, `${PRIVATE}/app`, { env }));
  assert.deepEqual(fs.readFileSync(loads, "utf8").slice(afterOther.length).split("\n").filter((line) => line === "providers/ecr-sdk"), ["providers/ecr-sdk"]);
  assert.equal(s.server.calls(), 1);
});

test("a FIPS host with no endpoint configured calls the FIPS endpoint name, and the answer is the provider's", async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const real: EcrSdk = { ECR: require("@aws-sdk/client-ecr"), ECRPublic: require("@aws-sdk/client-ecr-public"), STS: require("@aws-sdk/client-sts") };
  const hostnames: string[] = [];
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  // The real client and the config the provider builds; only the wire is replaced, by an answer in ECR's format.
  const wire = {
    handle: async (req: { hostname: string }) => {
      hostnames.push(req.hostname);
      const body = JSON.stringify({ authorizationData: [{ authorizationToken: Buffer.from("AWS:fips-password").toString("base64"), expiresAt }] });
      return { response: { statusCode: 200, headers: { "content-type": "application/x-amz-json-1.1" }, body: Readable.from([Buffer.from(body)]) } };
    },
  };
  class WireECRClient extends real.ECR.ECRClient {
    constructor(config: ConstructorParameters<typeof real.ECR.ECRClient>[0]) {
      super({ ...config, requestHandler: wire, credentials: { accessKeyId: NODE_KEY.accessKeyId, secretAccessKey: NODE_KEY.secretAccessKey } });
    }
  }
  const sdk = { ...real, ECR: { ...real.ECR, ECRClient: WireECRClient } } as EcrSdk;
  const secrets = new SecretSet();
  const provider = createEcrProvider({}, { name: "ecr", log: new CaptureLog(), secrets, now: Date.now, env: {}, cwd: "/", configDir: "/", matchImages: ["*.dkr.ecr-fips.*.amazonaws.com"] }, () => sdk);
  const host = "111122223333.dkr.ecr-fips.us-west-2.amazonaws.com";
  const result = await provider({ image: `${host}/team/app`, registry: host, apiVersion: V1 }, new AbortController().signal);
  assert.deepEqual(hostnames, ["api.ecr-fips.us-west-2.amazonaws.com"]);
  assert.deepEqual(result.auth, { [host]: { username: "AWS", password: "fips-password" } });
  assert.equal(result.expiresAt?.getTime(), expiresAt * 1000);
  assert.equal(secrets.mask("fips-password"), "***");
});

test("a FIPS host's call against the loopback endpoint: signed for ecr in the host's region", async () => {
  const s = await setup();
  const host = "111122223333.dkr.ecr-fips.us-west-2.amazonaws.com";
  const response = answer(await exec(s, `${host}/team/app:1.0`));
  assert.deepEqual(Object.keys(response.auth), [host]);
  assert.deepEqual(s.server.requests.map((r) => [r.target, r.region, r.signingName, r.accessKeyId, r.outcome]),
    [["ecr:GetAuthorizationToken", "us-west-2", "ecr", NODE_KEY.accessKeyId, "ok"]]);
});

test("a private pull: the node's credentials, GetAuthorizationToken in the host's region, keyed by the registry host", async () => {
  const s = await setup();
  const run = await exec(s, `${PRIVATE}/team/app:1.0`);
  const response = answer(run);
  assert.deepEqual(response.auth, { [PRIVATE]: { username: "AWS", password: s.server.passwords[0]! } });
  assert.equal(response.cacheKeyType, "Registry");
  // The token's real lifetime (12 h) less the 5 m margin, not half of it as upstream.
  const lifetime = seconds(response.cacheDuration);
  assert.ok(lifetime > 12 * 3600 - 5 * 60 - 30 && lifetime <= 12 * 3600 - 5 * 60, response.cacheDuration);
  assert.equal(s.server.calls(), 1);
  const [call] = s.server.requests;
  assert.equal(call!.target, "ecr:GetAuthorizationToken");
  assert.equal(call!.region, "us-west-2");
  assert.equal(call!.accessKeyId, NODE_KEY.accessKeyId);
  assert.equal(call!.signatureValid, true);
  assert.equal(run.stderr, "");
});

test("a public pull: ECR Public's GetAuthorizationToken in us-east-1, for both public hosts", async () => {
  const s = await setup();
  for (const host of ["public.ecr.aws", "ecr-public.aws.com"]) {
    const response = answer(await exec(s, `${host}/nginx/nginx:latest`));
    assert.deepEqual(response.auth, { [host]: { username: "AWS", password: s.server.passwords.at(-1)! } });
  }
  assert.deepEqual(s.server.requests.map((r) => [r.target, r.region, r.signingName, r.signatureValid]), [
    ["ecr-public:GetAuthorizationToken", "us-east-1", "ecr-public", true],
    ["ecr-public:GetAuthorizationToken", "us-east-1", "ecr-public", true],
  ]);
});

test("a cross-account registry: its role is assumed with STS first, and the ECR call is signed with the role's credentials", async () => {
  const s = await setup({ roles: { "444455556666": PULL_ROLE } });
  s.server.allowRole(PULL_ROLE);
  const response = answer(await exec(s, `${CROSS_ACCOUNT}/app`));
  assert.deepEqual(response.auth, { [CROSS_ACCOUNT]: { username: "AWS", password: s.server.passwords[0]! } });
  const [assumed] = s.server.issuedFor(PULL_ROLE);
  assert.ok(assumed);
  assert.deepEqual(s.server.requests.map((r) => [r.target, r.region, r.accessKeyId, r.signatureValid, r.outcome]), [
    ["sts:AssumeRole", "eu-central-1", NODE_KEY.accessKeyId, true, "ok"],
    // The server checked the signature against the role's secret and its session token.
    ["ecr:GetAuthorizationToken", "eu-central-1", assumed.accessKeyId, true, "ok"],
  ]);
  assert.equal(s.server.requests[0]!.params.RoleArn, PULL_ROLE);
  assert.equal(s.server.requests[0]!.params.RoleSessionName, "credmux");
  // An account without a role uses the node's credentials directly.
  answer(await exec(s, `${PRIVATE}/app`));
  assert.deepEqual(s.server.requests.slice(2).map((r) => [r.target, r.accessKeyId]), [["ecr:GetAuthorizationToken", NODE_KEY.accessKeyId]]);
});

test("service-account mode with a role annotation: AssumeRoleWithWebIdentity with the kubelet's token, under either fallback", async () => {
  for (const fallback of ["fail", "node"]) {
    for (const key of ["eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"]) {
      const s = await setup({ tokenAttributes: TOKEN_ATTRIBUTES, fallback });
      s.server.allowRole(POD_ROLE, [SA_TOKEN]);
      const run = await exec(s, `${PRIVATE}/app`, { more: { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { [key]: POD_ROLE } } });
      const response = answer(run);
      assert.deepEqual(Object.keys(response.auth), [PRIVATE]);
      const [assumed] = s.server.issuedFor(POD_ROLE);
      assert.ok(assumed, `${fallback} ${key}`);
      assert.deepEqual(s.server.requests.map((r) => [r.target, r.region, r.accessKeyId, r.outcome]), [
        // Unsigned: the web identity token is the proof.
        ["sts:AssumeRoleWithWebIdentity", undefined, undefined, "ok"],
        ["ecr:GetAuthorizationToken", "us-west-2", assumed.accessKeyId, "ok"],
      ], `${fallback} ${key}`);
      assert.equal(s.server.requests[0]!.params.RoleArn, POD_ROLE);
      assert.equal(s.server.requests[0]!.params.WebIdentityToken, `(${SA_TOKEN.length} chars)`);
      assert.ok(!run.stderr.includes(SA_TOKEN));
    }
  }
});

test("service-account mode: the ecr-role-arn annotation wins over role-arn, and a role map chains on the pod's role", async () => {
  const s = await setup({ tokenAttributes: TOKEN_ATTRIBUTES, roles: { "444455556666": PULL_ROLE } });
  s.server.allowRole(POD_ROLE, [SA_TOKEN]);
  s.server.allowRole(PULL_ROLE);
  const annotations = { "eks.amazonaws.com/ecr-role-arn": POD_ROLE, "eks.amazonaws.com/role-arn": "arn:aws:iam::111122223333:role/not-this-one" };
  answer(await exec(s, `${CROSS_ACCOUNT}/app`, { more: { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: annotations } }));
  const [pod] = s.server.issuedFor(POD_ROLE);
  const [pull] = s.server.issuedFor(PULL_ROLE);
  assert.deepEqual(s.server.requests.map((r) => [r.target, r.accessKeyId, r.params.RoleArn]), [
    ["sts:AssumeRoleWithWebIdentity", undefined, POD_ROLE],
    ["sts:AssumeRole", pod!.accessKeyId, PULL_ROLE],
    ["ecr:GetAuthorizationToken", pull!.accessKeyId, undefined],
  ]);
});

test("service-account mode without a role annotation: fallback fail names the keys it looked for; fallback node uses the node", async () => {
  const more = { serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { "example.com/other": "x" } };
  const failing = await setup({ tokenAttributes: TOKEN_ATTRIBUTES });
  const line = failureLine(await exec(failing, `${PRIVATE}/app`, { more }));
  assert.equal(line, 'credmux: provider ecr: ecr: the service account has none of the role annotations "eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn" ' +
    "(annotate the service account with the IAM role to assume (and list the key in the kubelet's tokenAttributes annotation keys), or set fallback: node)");
  assert.equal(failing.server.calls(), 0);

  const custom = await setup({ tokenAttributes: TOKEN_ATTRIBUTES, fallback: "fail", roleAnnotations: ["example.com/pull-role"] });
  assert.match(failureLine(await exec(custom, `${PRIVATE}/app`, { more })), /has none of the role annotations "example\.com\/pull-role" /);

  const node = await setup({ tokenAttributes: TOKEN_ATTRIBUTES, fallback: "node" });
  const response = answer(await exec(node, `${PRIVATE}/app`, { more }));
  assert.deepEqual(Object.keys(response.auth), [PRIVATE]);
  assert.deepEqual(node.server.requests.map((r) => [r.target, r.accessKeyId]), [["ecr:GetAuthorizationToken", NODE_KEY.accessKeyId]]);
});

test("throttling and 5xx answers are retried with backoff and then answered", async () => {
  const throttled = await setup();
  throttled.server.throttle("ecr:GetAuthorizationToken", 2);
  const response = answer(await exec(throttled, `${PRIVATE}/app`));
  assert.deepEqual(response.auth, { [PRIVATE]: { username: "AWS", password: throttled.server.passwords[0]! } });
  assert.deepEqual(throttled.server.requests.map((r) => r.outcome), ["throttled", "throttled", "ok"]);

  const failing = await setup();
  failing.server.fail("ecr:GetAuthorizationToken", 1, 503);
  failing.server.throttle("sts:AssumeRole", 1);
  failing.server.allowRole(PULL_ROLE);
  await fs.promises.writeFile(failing.config, JSON.stringify({ ...JSON.parse(fs.readFileSync(failing.config, "utf8")), providers: [{ name: "ecr", type: "ecr", roles: { "444455556666": PULL_ROLE } }] }));
  answer(await exec(failing, `${CROSS_ACCOUNT}/app`));
  assert.deepEqual(failing.server.requests.map((r) => `${r.target} ${r.outcome}`),
    ["sts:AssumeRole throttled", "sts:AssumeRole ok", "ecr:GetAuthorizationToken failed", "ecr:GetAuthorizationToken ok"]);
});

test("throttling beyond maxAttempts fails with the call, the attempts and a hint", async () => {
  const s = await setup({ maxAttempts: 2 });
  s.server.throttle("ecr:GetAuthorizationToken", 5);
  const line = failureLine(await exec(s, `${PRIVATE}/app`));
  assert.equal(line, `credmux: provider ecr: ecr: GetAuthorizationToken for 111122223333 in us-west-2 at ${s.server.url} failed after 2 attempts: ` +
    "ThrottlingException (HTTP 400): Rate exceeded (AWS throttles this call per account and region; keep cache.dir set so that execs share one token, or raise maxAttempts)");
  assert.equal(s.server.calls(), 2);
});

test("when AWS refuses a call, the line names the call and says what to check", async () => {
  const cases: Array<{ name: string; provider?: Record<string, unknown>; env?: Record<string, string>; more?: Record<string, unknown>; image: string; line: (url: string) => string }> = [
    {
      name: "the node's key is wrong",
      env: { AWS_SECRET_ACCESS_KEY: "not-the-node-secret" },
      image: `${PRIVATE}/app`,
      line: (url) => `credmux: provider ecr: ecr: GetAuthorizationToken for 111122223333 in us-west-2 at ${url} failed after 1 attempt: InvalidSignatureException (HTTP 403): ` +
        "The request signature we calculated does not match the signature you provided. (AWS refused the node's credentials: check the node IAM role or the AWS_* credentials " +
        "in the env of the kubelet's CredentialProviderConfig, and the node's clock)",
    },
    {
      name: "the role does not trust the node",
      provider: { roles: { "444455556666": "arn:aws:iam::444455556666:role/not-trusted" } },
      image: `${CROSS_ACCOUNT}/app`,
      line: (url) => `credmux: provider ecr: ecr: AssumeRole arn:aws:iam::444455556666:role/not-trusted in eu-central-1 at ${url} failed after 1 attempt: AccessDenied (HTTP 403): ` +
        "Not authorized to perform sts:AssumeRole on arn:aws:iam::444455556666:role/not-trusted (check that the role's trust policy lets the node's credentials assume it)",
    },
    {
      name: "STS refuses the service account's token",
      provider: { tokenAttributes: TOKEN_ATTRIBUTES },
      more: { serviceAccountToken: "a-token-sts-does-not-accept", serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": POD_ROLE } },
      image: `${PRIVATE}/app`,
      line: (url) => `credmux: provider ecr: ecr: AssumeRoleWithWebIdentity ${POD_ROLE} in us-west-2 at ${url} failed after 1 attempt: InvalidIdentityTokenException (HTTP 400): ` +
        "Couldn't retrieve verification key from your identity provider (check the role's trust policy: it must trust the cluster's OIDC provider for this service account " +
        "and the token's audience (tokenAttributes.serviceAccountTokenAudience))",
    },
  ];
  for (const c of cases) {
    const s = await setup(c.provider);
    s.server.allowRole(POD_ROLE, [SA_TOKEN]);
    const line = failureLine(await exec(s, c.image, { env: c.env, more: c.more }));
    assert.equal(line, c.line(s.server.url), c.name);
  }
});

test("a black-holed endpoint fails within the deadline: per-attempt timeouts, or the exec's deadline, whichever comes first", async () => {
  const attempts = await setup({ requestTimeout: "400ms", maxAttempts: 2 }, { defaults: { timeout: "10s" } });
  attempts.server.blackHole();
  const run = await exec(attempts, `${PRIVATE}/app`);
  assert.equal(failureLine(run), `credmux: provider ecr: ecr: GetAuthorizationToken for 111122223333 in us-west-2 at ${attempts.server.url} timed out after 2 attempts of 400ms ` +
    `(check that the node reaches ${attempts.server.url} (route, proxy, VPC endpoint), or set AWS_ENDPOINT_URL_ECR; requestTimeout and maxAttempts are the provider's options)`);
  assert.equal(attempts.server.calls(), 2);

  const deadline = await setup({}, { defaults: { timeout: "2s" } });
  deadline.server.blackHole();
  const late = await exec(deadline, `${PRIVATE}/app`);
  assert.equal(failureLine(late), `credmux: provider ecr: ecr: GetAuthorizationToken for 111122223333 in us-west-2 at ${deadline.server.url}: no answer before the deadline ` +
    "(the deadline is defaults.timeout; check that the node reaches the endpoint, or set AWS_ENDPOINT_URL_ECR)");
});

test("no credentials anywhere: a clear error after one short metadata attempt, not the SDK's 2 s (token, then IMDSv1)", async () => {
  // The instance metadata address of this "node" accepts connections and never answers, as a
  // black-holed 169.254.169.254 does on a host outside EC2. It records each request's first line.
  const sockets = new Set<net.Socket>();
  let seen: string[] = [];
  const metadata = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("data", (chunk: Buffer) => seen.push(chunk.toString("latin1").split("\r\n")[0]!.replace(/ HTTP\/1\.1$/, "")));
  });
  await new Promise<void>((resolve) => metadata.listen(0, "127.0.0.1", resolve));
  try {
    const env = {
      AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_EC2_METADATA_DISABLED: undefined,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${(metadata.address() as net.AddressInfo).port}`,
    };
    const s = await setup({}, { defaults: { timeout: "10s" } });
    const run = await exec(s, `${PRIVATE}/app`, { env });
    assert.match(failureLine(run), /^credmux: provider ecr: ecr: GetAuthorizationToken for 111122223333 in us-west-2: no AWS credentials for the node \(.+\) \(check the node's IAM role/);
    // One IMDSv2 token request, given up after imdsTimeout (1s by default); no IMDSv1 retry.
    assert.deepEqual(seen, ["PUT /latest/api/token"]);
    assert.equal(s.server.calls(), 0);

    seen = [];
    const quick = await setup({ imdsTimeout: "200ms" });
    const fast = await exec(quick, `${PRIVATE}/app`, { env });
    assert.match(failureLine(fast), /no AWS credentials for the node/);
    assert.deepEqual(seen, ["PUT /latest/api/token"]);
    // imdsTimeout is what ends that wait: set past the exec's deadline, the deadline ends it instead.
    seen = [];
    const patient = await setup({ imdsTimeout: "30s" }, { defaults: { timeout: "3s" } });
    const waited = failureLine(await exec(patient, `${PRIVATE}/app`, { env }));
    assert.match(waited, /no answer (before the deadline|within 3s)/);
    assert.deepEqual(seen, ["PUT /latest/api/token"]);

    // The control: with the IMDSv1 fallback allowed, the SDK's own behaviour, a second wait follows.
    seen = [];
    const fallback = await setup({ imdsV1Fallback: true, imdsTimeout: "300ms" });
    assert.match(failureLine(await exec(fallback, `${PRIVATE}/app`, { env })), /no AWS credentials for the node/);
    assert.deepEqual(seen, ["PUT /latest/api/token", "GET /latest/meta-data/iam/security-credentials/"]);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => metadata.close(() => resolve()));
  }
});

test("a mirrored docker.io image gets the ECR pull-through cache's credentials, keyed docker.io", async () => {
  const s = await setup({}, { mirrors: [{ from: "docker.io", to: "111122223333.dkr.ecr.us-east-1.amazonaws.com/docker-hub" }] });
  const response = answer(await exec(s, "nginx:1.27"));
  assert.deepEqual(response.auth, { "docker.io": { username: "AWS", password: s.server.passwords[0]! } });
  assert.deepEqual(s.server.requests.map((r) => [r.target, r.region]), [["ecr:GetAuthorizationToken", "us-east-1"]]);
});

test("a host the patterns match that is not ECR's: the region option, else the SDK's default region, with a notice", async () => {
  const configured = await setup({ matchImages: ["registry.mirror.test"], region: "eu-west-1" });
  const run = await exec(configured, "registry.mirror.test/library/nginx", { args: ["--log-level", "info"] });
  assert.deepEqual(Object.keys(answer(run).auth), ["registry.mirror.test"]);
  assert.equal(configured.server.requests[0]!.region, "eu-west-1");
  const notices = run.stderr.split("\n").filter((line) => line.includes("not an ECR registry host"));
  assert.equal(notices.length, 1, run.stderr);
  assert.match(notices[0]!, /registry\.mirror\.test is not an ECR registry host; asking ECR in eu-west-1 \(the provider's region option\)/);

  const sdkDefault = await setup({ matchImages: ["registry.mirror.test"] });
  answer(await exec(sdkDefault, "registry.mirror.test/library/nginx", { env: { AWS_REGION: "ap-south-1" } }));
  assert.equal(sdkDefault.server.requests[0]!.region, "ap-south-1");

  const none = await setup({ matchImages: ["registry.mirror.test"] });
  assert.match(failureLine(await exec(none, "registry.mirror.test/library/nginx")),
    /^credmux: provider ecr: ecr: registry\.mirror\.test is not an ECR registry host, and no AWS region is configured \(.*\) \(set the provider's region option, or AWS_REGION/);
  assert.equal(none.server.calls(), 0);
});

test("AWS_ENDPOINT_URL_ECR and the endpoint option win over AWS_ENDPOINT_URL", async () => {
  const s = await setup();
  const dead = "http://127.0.0.1:9";
  answer(await exec(s, `${PRIVATE}/app`, { env: { AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_ECR: s.server.url } }));
  const option = await setup({ endpoint: s.server.url });
  answer(await exec(option, `${PRIVATE}/app`, { env: { AWS_ENDPOINT_URL: dead, AWS_ENDPOINT_URL_ECR: dead } }));
  assert.equal(s.server.calls("ecr:GetAuthorizationToken"), 2);
});

test("the disk cache serves the next exec without calling AWS, and nothing secret reaches the logs", async () => {
  const s = await setup();
  const cacheDir = path.join(s.dir, "cache");
  await fs.promises.writeFile(s.config, JSON.stringify({ ...JSON.parse(fs.readFileSync(s.config, "utf8")), cache: { dir: cacheDir } }));
  const first = answer(await exec(s, `${PRIVATE}/team/app`, { args: ["--log-level", "debug"] }));
  const secondRun = await exec(s, `${PRIVATE}/other/app`, { args: ["--log-level", "debug"] });
  const second = answer(secondRun);
  assert.deepEqual(second.auth, first.auth);
  assert.equal(s.server.calls(), 1);
  const password = s.server.passwords[0]!;
  assert.ok(!secondRun.stderr.includes(password));
  assert.ok(!secondRun.stderr.includes(NODE_KEY.secretAccessKey));
});

test("an exec the disk cache answers, on a config noted as valid, loads neither the ECR provider nor the AWS SDK", async () => {
  const s = await setup();
  const cacheDir = path.join(s.dir, "cache");
  await fs.promises.writeFile(s.config, JSON.stringify({ ...JSON.parse(fs.readFileSync(s.config, "utf8")), cache: { dir: cacheDir } }));
  const loads = path.join(s.dir, "deferred-loads.txt");
  const env = { NODE_OPTIONS: `--require ${path.join(FIXTURES, "ecr", "record-deferred-loads.js")}`, CREDMUX_TEST_DEFERRED_LOG: loads };
  const loadsOf = async (image: string) => {
    fs.rmSync(loads, { force: true });
    const run = answer(await exec(s, image, { env }));
    return { run, loaded: fs.existsSync(loads) ? fs.readFileSync(loads, "utf8").split("\n").filter(Boolean).sort() : [] };
  };
  // The first exec validates the config (loading the provider) and notes it; the second is a miss.
  const first = await loadsOf(`${PRIVATE}/team/app`);
  assert.deepEqual(first.loaded, ["providers/ecr", "providers/ecr-sdk"]);
  const miss = await loadsOf(`${CROSS_ACCOUNT.replace("444455556666", "111122223333")}/team/app`);
  assert.deepEqual(miss.loaded, ["providers/ecr", "providers/ecr-sdk"]);
  const hit = await loadsOf(`${PRIVATE}/other/app`);
  assert.deepEqual(hit.loaded, []);
  assert.deepEqual(hit.run.auth, first.run.auth);
  assert.equal(s.server.calls("ecr:GetAuthorizationToken"), 2);
});

test("a failing exec prints one stderr line on Node 20: the SDK's Node version notice is off", async () => {
  const s = await setup({ maxAttempts: 1 });
  s.server.fail("ecr:GetAuthorizationToken", 1, 500);
  const line = failureLine(await exec(s, `${PRIVATE}/app`));
  assert.match(line, /^credmux: provider ecr: ecr: GetAuthorizationToken for 111122223333 in us-west-2 at \S+ failed after 1 attempt: ServerException \(HTTP 500\)/);
});

test("the provider's options are checked with the config", async () => {
  const table: Array<[options: Record<string, unknown>, error: RegExp]> = [
    [{ roles: { "12345": PULL_ROLE } }, /roles/],
    [{ roles: { "444455556666": "pull" } }, /expected an IAM role ARN/],
    [{ fallback: "maybe" }, /fallback/],
    [{ requestTimeout: "soon" }, /expected the time one attempt of an AWS call may take as a Go duration/],
    [{ endpoint: "ftp://x" }, /expected an http:\/\/ or https:\/\/ URL/],
    [{ unknownOption: true }, /unknownOption/],
  ];
  for (const [options, error] of table) {
    const dir = tempDir();
    await assert.rejects(loadConfig(writeConfig(dir, { providers: [inProcess("ecr", { name: "ecr", ...options })] })), error, JSON.stringify(options));
  }
});

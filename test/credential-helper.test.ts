// The credential-helper provider: the docker credential-helper protocol with a helper of the test's
// own and with Debian's real docker-credential-ecr-login talking to a loopback ECR endpoint; the
// helper chosen from credHelpers / credsStore on the kubelet's search path; identity tokens and
// "not found" as no credentials; a hanging helper killed with its whole process group at the
// deadline; bad helper output failing on one line without the secret.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import credentialHelper, { helperKeyRegistry, HELPER_SERVER_URLS } from "../providers/credential-helper.js";
import { startConnectProxy } from "./helpers/connect-proxy.js";
import { FIXTURES } from "./helpers/paths.js";
import { installForkingProgram, liveMembers, readForkPids, stillRunning, type Descendant } from "./helpers/processes.js";
import { runBundle } from "./helpers/run-bundle.js";
import { skipUnlessTools } from "./helpers/required-tools.js";
import { makeTestCertificates } from "./helpers/test-ca.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const HELPER = "docker-credential-credmux-test";
const SECRET = "helper-secret-Xk29qa";
const ECR_HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/** A bin directory holding the test helper, and an environment whose PATH starts with it. */
function helperBin(): { bin: string; record: string; env: Record<string, string> } {
  const bin = tempDir("credmux-helper-bin-");
  fs.copyFileSync(path.join(FIXTURES, "credential-helpers", HELPER), path.join(bin, HELPER));
  fs.chmodSync(path.join(bin, HELPER), 0o755);
  const record = path.join(bin, "calls.jsonl");
  return { bin, record, env: { PATH: `${bin}${path.delimiter}${process.env.PATH}`, HELPER_RECORD: record, HELPER_SECRET: SECRET } };
}

const stdin = (image: string) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image })}\n`;

async function exec(config: string, image: string, env: Record<string, string>, logLevel = "debug") {
  const run = await runBundle(["--config", config, "--log-level", logLevel], { stdin: stdin(image), env, timeoutMs: 20_000 });
  return { ...run, response: run.status === 0 ? JSON.parse(run.stdout) : undefined, lines: run.stderr.split("\n").filter((line) => line.startsWith("credmux: ")) };
}

function calls(record: string): Array<{ args: string[]; stdin: string }> {
  return fs.existsSync(record) ? fs.readFileSync(record, "utf8").trim().split("\n").map((line) => JSON.parse(line)) : [];
}

test("a helper named in the config: `get`, the registry on stdin, Username/Secret as the credential", async () => {
  const { env, record } = helperBin();
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "helper", type: "credential-helper", matchImages: ["registry.helper.test", "docker.io"], helper: "credmux-test" }] });
  const run = await exec(config, "registry.helper.test/team/app", { ...env, HELPER_USERNAME: "robot" });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth, { "registry.helper.test": { username: "robot", password: SECRET } });
  assert.deepEqual(calls(record), [{ args: ["get"], stdin: "registry.helper.test" }]);
  assert.equal(run.stderr.includes(SECRET), false, "debug logs never show the secret");

  // Docker Hub is asked for under the server URL docker itself uses.
  const hub = await exec(config, "docker.io/library/nginx", env);
  assert.equal(hub.status, 0, hub.stderr);
  assert.equal(calls(record)[1]!.stdin, "https://index.docker.io/v1/");
  assert.deepEqual(Object.keys(hub.response.auth), ["docker.io"]);
});

test("the helper from the docker config on the kubelet's search path: credHelpers beats credsStore", async () => {
  const { env, record } = helperBin();
  const home = tempDir();
  fs.mkdirSync(path.join(home, ".docker"));
  fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({
    auths: { "inline.test": { auth: Buffer.from("a:b").toString("base64") } },
    credHelpers: { "https://helped.test": "credmux-test", "other.test": "nonexistent-helper" },
    credsStore: "credmux-test",
  }));
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "docker", type: "credential-helper", matchImages: ["*.test"], rootDir: path.join(dir, "no-kubelet-root") }] });
  const helped = await exec(config, "helped.test/app", { ...env, HOME: home });
  assert.equal(helped.status, 0, helped.stderr);
  assert.deepEqual(helped.response.auth, { "helped.test": { username: "helper-user", password: SECRET } });
  assert.match(helped.stderr, /"msg":"provider answered"/);

  const stored = await exec(config, "stored.test/app", { ...env, HOME: home });
  assert.equal(stored.status, 0, stored.stderr);
  assert.deepEqual(Object.keys(stored.response.auth), ["stored.test"], "credsStore serves registries without a credHelpers entry");

  const other = await exec(config, "other.test/app", { ...env, HOME: home });
  assert.equal(other.status, 1);
  assert.deepEqual(other.lines, [
    `credmux: provider docker (credential-helper): docker-credential-nonexistent-helper (from credHelpers of ${home}/.docker/config.json): cannot run it: not found on the PATH (install it, or check the PATH the kubelet passes to credmux)`,
  ]);
  assert.deepEqual(calls(record).map((call) => call.stdin), ["helped.test", "stored.test"]);

  // No docker config anywhere on the search path: no helper, no credentials, no failure.
  const none = await exec(config, "helped.test/app", { ...env, HOME: tempDir() });
  assert.equal(none.status, 0, none.stderr);
  assert.deepEqual(none.response.auth, {});
  assert.equal(none.response.cacheDuration, "0s");
});

test("a docker config names helpers, never paths: anything but a plain name in credHelpers or credsStore is refused and not run", async () => {
  const { env } = helperBin();
  const home = tempDir();
  fs.mkdirSync(path.join(home, ".docker"));
  const dockerConfig = path.join(home, ".docker", "config.json");
  // What whoever can write a docker config on the search path would have root run.
  const evil = path.join(tempDir(), "evil");
  const marker = `${evil}.ran`;
  fs.writeFileSync(evil, `#!/bin/sh\ntouch '${marker}'\necho '{"Username":"u","Secret":"s"}'\n`, { mode: 0o755 });
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "docker", type: "credential-helper", matchImages: ["*.test"], rootDir: path.join(dir, "no-kubelet-root") }] });
  const rule = `docker runs docker-credential-NAME from the PATH, and a name has only letters, digits, ".", "_" and "-" (a helper named by its path is allowed only in the helper option of credmux's own config)`;
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["an absolute path in credHelpers", { credHelpers: { "helped.test": evil } }, `credHelpers["helped.test"]: ${JSON.stringify(evil)} is not a helper name`],
    ["a relative path in credHelpers", { credHelpers: { "https://helped.test": "../../evil" } }, `credHelpers["https://helped.test"]: "../../evil" is not a helper name`],
    ["an absolute path in credsStore", { credsStore: evil }, `credsStore: ${JSON.stringify(evil)} is not a helper name`],
    ["a name with a space", { credsStore: "credmux-test get" }, `credsStore: "credmux-test get" is not a helper name`],
  ];
  for (const [name, document, problem] of cases) {
    fs.writeFileSync(dockerConfig, JSON.stringify(document));
    const run = await exec(config, "helped.test/app", { ...env, HOME: home });
    assert.equal(run.status, 1, name);
    assert.deepEqual(run.lines, [`credmux: provider docker (credential-helper): ${dockerConfig}: ${problem}: ${rule}`], name);
    assert.equal(fs.existsSync(marker), false, `${name}: the file was run`);
  }

  // In credmux's own config a path is the operator's choice, and runs.
  const own = writeConfig(dir, { providers: [{ name: "own", type: "credential-helper", matchImages: ["*.test"], helper: evil }] }, "own.json");
  const run = await exec(own, "helped.test/app", env);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(fs.existsSync(marker), true);
});

test("credHelpers keys: bare hosts, ports, URLs and Docker Hub's names", () => {
  const cases: Array<[string, string]> = [
    ["ghcr.io", "ghcr.io"],
    ["https://ghcr.io", "ghcr.io"],
    ["registry.test:5000", "registry.test:5000"],
    ["http://registry.test:5000/v2/", "registry.test:5000"],
    ["https://index.docker.io/v1/", "docker.io"],
    ["registry-1.docker.io", "docker.io"],
    [ECR_HOST, ECR_HOST],
  ];
  for (const [key, registry] of cases) assert.equal(helperKeyRegistry(key), registry, key);
  assert.equal(HELPER_SERVER_URLS["docker.io"], "https://index.docker.io/v1/");
});

test("\"credentials not found in native keychain\" is no credentials, and an identity token is skipped with a warning", async () => {
  const { env } = helperBin();
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "helper", type: "credential-helper", matchImages: ["registry.helper.test"], helper: "credmux-test" }] });
  const notFound = await exec(config, "registry.helper.test/app", { ...env, HELPER_MODE: "not-found" });
  assert.equal(notFound.status, 0, notFound.stderr);
  assert.deepEqual(notFound.response.auth, {});

  const identity = await exec(config, "registry.helper.test/app", { ...env, HELPER_USERNAME: "<token>" }, "warn");
  assert.equal(identity.status, 0, identity.stderr);
  assert.deepEqual(identity.response.auth, {});
  assert.match(identity.stderr, /skipping the credential helper's answer: it is an identity token \(username <token>\), which the kubelet cannot pass to the container runtime/);
  assert.equal(identity.stderr.includes(SECRET), false);
});

test("bad helpers fail on one line without the secret: errors, crashes, non-JSON, empty secrets, missing programs and files", async () => {
  const { env, bin } = helperBin();
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "malformed.json"), "{\"credHelpers\": ");
  const entry = (extra: Record<string, unknown>) => ({ name: "helper", type: "credential-helper", matchImages: ["registry.helper.test"], ...extra });
  const what = `docker-credential-credmux-test (from the provider's helper option)`;
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, string]> = [
    ["error on stdout", { helper: "credmux-test" }, { HELPER_MODE: "fail" }, `credmux: provider helper (credential-helper): ${what} exited with status 1 for registry.helper.test: error getting credentials - err: exit status 1, out: keychain locked for registry.helper.test (run the helper by hand as the kubelet's user: printf SERVER | docker-credential-NAME get)`],
    ["crash on stderr", { helper: "credmux-test" }, { HELPER_MODE: "crash" }, `credmux: provider helper (credential-helper): ${what} exited with status 2 for registry.helper.test: panic: runtime error: invalid memory address (run the helper by hand as the kubelet's user: printf SERVER | docker-credential-NAME get)`],
    ["non-JSON output", { helper: "credmux-test" }, { HELPER_MODE: "non-json" }, `credmux: provider helper (credential-helper): ${what} printed 42 characters that are not JSON on stdout, expected {"ServerURL","Username","Secret"} (check that the program speaks the docker credential-helper protocol)`],
    ["empty secret", { helper: "credmux-test" }, { HELPER_MODE: "empty" }, `credmux: provider helper (credential-helper): ${what} answered an empty Secret (check what the helper holds for this registry)`],
    ["helper not on PATH", { helper: "absent" }, {}, `credmux: provider helper (credential-helper): docker-credential-absent (from the provider's helper option): cannot run it: not found on the PATH (install it, or check the PATH the kubelet passes to credmux)`],
    ["helper path not executable", { helper: "./malformed.json" }, {}, `credmux: provider helper (credential-helper): ${dir}/malformed.json (from the provider's helper option): cannot run it: permission denied (check that the file is executable by the kubelet's user)`],
    ["listed docker config missing", { dockerConfigFiles: ["missing.json"] }, {}, `credmux: provider helper (credential-helper): ${dir}/missing.json: no such file (the file is listed in dockerConfigFiles; create it or remove it from the list)`],
    ["malformed docker config", { dockerConfigFiles: ["malformed.json"] }, {}, `credmux: provider helper (credential-helper): ${dir}/malformed.json: malformed JSON (Unexpected end of JSON input)`],
  ];
  for (const [name, options, extraEnv, line] of cases) {
    const config = writeConfig(dir, { providers: [entry(options)] });
    const run = await exec(config, "registry.helper.test/app", { ...env, ...extraEnv });
    assert.equal(run.status, 1, name);
    assert.equal(run.stdout, "", name);
    assert.deepEqual(run.lines, [line], name);
    assert.equal(run.stderr.includes(SECRET), false, `${name}: the secret leaked`);
  }
  assert.ok(fs.existsSync(path.join(bin, HELPER)));
});

test("options: helper excludes the docker-config search options", () => {
  assert.equal(credentialHelper.options().safeParse({ helper: "ecr-login", dockerConfigFiles: ["a.json"] }).success, false);
  assert.equal(credentialHelper.options().safeParse({ helper: "ecr-login", env: [{ name: "AWS_PROFILE", value: "pull" }] }).success, true);
  assert.equal(credentialHelper.options().safeParse({ helper: "" }).success, false);
});

test("a hanging helper is killed at the deadline with its whole process group", async (t) => {
  const { env, bin } = helperBin();
  const pids = path.join(bin, "pids");
  const dir = tempDir();
  const config = writeConfig(dir, { defaults: { timeout: "1s" }, providers: [{ name: "helper", type: "credential-helper", matchImages: ["registry.helper.test"], helper: "credmux-test" }] });
  const run = await exec(config, "registry.helper.test/app", { ...env, HELPER_MODE: "hang", HELPER_PIDS: pids });
  assert.equal(run.status, 1);
  assert.equal(run.lines.length, 1, run.stderr);
  assert.match(run.lines[0]!, /^credmux: provider helper \(credential-helper\): (no answer within 1s|docker-credential-credmux-test \(from the provider's helper option\): no answer before the deadline; killed it and its process group)/);
  const [helperPid, grandchildPid] = fs.readFileSync(pids, "utf8").trim().split(" ").map(Number);
  // Should the assertion below fail, leave nothing behind all the same.
  t.after(() => {
    try {
      process.kill(-helperPid!, "SIGKILL");
    } catch {
      // already gone, as it should be
    }
  });
  // The helper leads its own group: the grandchild is in it, and only SIGKILL to the group reaches it.
  let live = liveMembers(helperPid!);
  for (let i = 0; i < 40 && live.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    live = liveMembers(helperPid!);
  }
  assert.deepEqual(live, [], `processes of the helper's group still running: ${live.join(", ")}`);
  assert.ok(grandchildPid! > 0);
  assert.equal(liveMembers(helperPid!).includes(grandchildPid!), false);
});

/** Runs the forking fixture as the configured helper (deadline 20 s) with these descendants. */
async function execForking(descendants: Descendant[]) {
  const { program, pidFile } = installForkingProgram();
  const dir = tempDir();
  const config = writeConfig(dir, { defaults: { timeout: "20s" }, providers: [{ name: "helper", type: "credential-helper", matchImages: ["registry.helper.test"], helper: program }] });
  const run = await exec(config, "registry.helper.test/app", { FORK_SPEC: JSON.stringify(descendants), FORK_PIDS: pidFile, FORK_SECRET: SECRET });
  const pids = readForkPids(pidFile);
  return { run, pids };
}

test("a helper that answers and exits, leaving a background child holding stdout: the pull succeeds and the child is killed", async () => {
  const { run, pids } = await execForking([{ holdsStdout: true, depth: 2, ownSession: false }]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth, { "registry.helper.test": { username: "forking-user", password: SECRET } });
  assert.ok(pids.descendants.length >= 1);
  assert.deepEqual(await stillRunning(pids.descendants, [pids.program]), []);
});

test("a helper that answers and exits, leaving a background child not holding its pipes: the child is killed after the success", async () => {
  const { run, pids } = await execForking([{ holdsStdout: false, depth: 1, ownSession: false }]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth, { "registry.helper.test": { username: "forking-user", password: SECRET } });
  assert.equal(pids.descendants.length, 1);
  assert.deepEqual(await stillRunning(pids.descendants, [pids.program]), []);
});

test("a grandchild that leaves the group (setsid) holding stdout is beyond reach: the answer is still right, and it keeps running", async () => {
  const { run, pids } = await execForking([{ holdsStdout: true, depth: 1, ownSession: true }]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth, { "registry.helper.test": { username: "forking-user", password: SECRET } });
  // The documented limit (README, Security): a new session is out of the group credmux kills.
  assert.equal(pids.sessions.length, 1);
  assert.equal(liveMembers(pids.sessions[0]!).length > 0, true);
});

test("Debian's docker-credential-ecr-login through the bridge, against a loopback ECR endpoint", async (t) => {
  const skip = skipUnlessTools(["docker-credential-ecr-login", "openssl"], "amazon-ecr-credential-helper openssl");
  if (skip) return t.skip(skip);
  const dir = tempDir();
  // The helper's AWS SDK ignores endpoint overrides, but Go honours HTTPS_PROXY and SSL_CERT_FILE:
  // the proxy hands its CONNECT to api.ecr.us-east-1.amazonaws.com to a loopback server holding a
  // certificate for that name from a test CA, so nothing leaves the machine and TLS is verified.
  const certs = makeTestCertificates(path.join(dir, "tls"), ["api.ecr.us-east-1.amazonaws.com"]);
  const seen: Array<{ target: string | undefined; contentType: string | undefined; authorization: string; body: string }> = [];
  const password = `ecr-password-${Math.random().toString(36).slice(2, 10)}`;
  const ecr = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
    let body = "";
    req.on("data", (chunk) => { body += chunk; });
    req.on("end", () => {
      seen.push({ target: req.headers["x-amz-target"] as string | undefined, contentType: req.headers["content-type"], authorization: req.headers.authorization ?? "", body });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify({
        authorizationData: [{ authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"), expiresAt: Math.floor(Date.now() / 1000) + 43200, proxyEndpoint: `https://${ECR_HOST}` }],
      }));
    });
  });
  t.after(() => { ecr.closeAllConnections(); ecr.close(); });
  const proxy = await startConnectProxy({ tunnelTo: ecr });
  const home = path.join(dir, "home");
  fs.mkdirSync(path.join(home, ".docker"), { recursive: true });
  fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ credHelpers: { [ECR_HOST]: "ecr-login" } }));
  const config = writeConfig(dir, {
    providers: [{
      name: "ecr-helper", type: "credential-helper", matchImages: ["*.dkr.ecr.*.amazonaws.com", "registry.not-ecr.test"], rootDir: path.join(dir, "no-kubelet-root"),
      env: [{ name: "AWS_ECR_DISABLE_CACHE", value: "true" }],
    }],
  });
  const env = {
    HOME: home, HTTPS_PROXY: proxy.url, SSL_CERT_FILE: certs.caFile,
    AWS_ACCESS_KEY_ID: "AKIDCREDMUXTEST", AWS_SECRET_ACCESS_KEY: "credmux-test-secret-key", AWS_EC2_METADATA_DISABLED: "true",
  };
  const run = await exec(config, `${ECR_HOST}/team/app`, env);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth, { [ECR_HOST]: { username: "AWS", password } });
  assert.deepEqual(proxy.seen, ["api.ecr.us-east-1.amazonaws.com:443"], "the helper reached ECR only through the loopback proxy");
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.target, "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
  assert.equal(seen[0]!.contentType, "application/x-amz-json-1.1");
  assert.match(seen[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDCREDMUXTEST\/\d{8}\/us-east-1\/ecr\/aws4_request,/);
  assert.deepEqual(JSON.parse(seen[0]!.body), { registryIds: ["123456789012"] });
  assert.equal(run.stderr.includes(password), false);
  assert.equal(fs.existsSync(path.join(home, ".ecr", "cache.json")), false, "the env option reached the helper: its cache stayed off");

  // The not-found path of the real helper: a host that is not ECR's gets the protocol's "not found".
  fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ credHelpers: { "registry.not-ecr.test": "ecr-login" } }));
  const notEcr = await exec(config, "registry.not-ecr.test/app", env);
  assert.equal(notEcr.status, 0, notEcr.stderr);
  assert.deepEqual(notEcr.response.auth, {});
  assert.match(notEcr.stderr, /the credential helper has no credentials for this registry/);
  assert.equal(seen.length, 1, "no ECR call for a host that is not ECR's");
});

// The kubelet-plugin provider: another kubelet credential provider run as the kubelet would run it,
// in the apiVersion it is configured for (v1beta1 under a v1 request and back, and the reverse),
// with its args and env, the service-account token and annotations passed through in v1 only, its
// cacheDuration and cacheKeyType kept, its answer decoded as strictly as the kubelet does; and
// credmux's own bundle chained under another config.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import kubeletPlugin, { decodePluginResponse, encodePluginRequest } from "../providers/kubelet-plugin.js";
import { BUNDLE, FIXTURES } from "./helpers/paths.js";
import { installForkingProgram, readForkPids, stillRunning } from "./helpers/processes.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const GROUP = "credentialprovider.kubelet.k8s.io";
const V1 = `${GROUP}/v1` as const;
const V1BETA1 = `${GROUP}/v1beta1` as const;
const PASSWORD = "chained-password-Qw71";
const SA_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGV2OnB1bGxlciJ9.sa-signature-Lm38";
const TOKEN_ATTRIBUTES = {
  serviceAccountTokenAudience: "registry.chain.test", cacheType: "Token", requireServiceAccount: true,
  optionalServiceAccountAnnotationKeys: ["example.test/role", "example.test/a&b"],
};

function pluginBin(): { plugin: string; record: string } {
  const bin = tempDir("credmux-plugin-bin-");
  const plugin = path.join(bin, "scripted-plugin");
  fs.copyFileSync(path.join(FIXTURES, "kubelet-plugins", "scripted-plugin.js"), plugin);
  fs.chmodSync(plugin, 0o755);
  return { plugin, record: path.join(bin, "calls.jsonl") };
}

function calls(record: string): Array<{ argv: string[]; stdin: string; mark?: string }> {
  return fs.existsSync(record) ? fs.readFileSync(record, "utf8").trim().split("\n").map((line) => JSON.parse(line)) : [];
}

async function exec(config: string, request: Record<string, unknown>, env: Record<string, string> = {}) {
  const run = await runBundle(["--config", config, "--log-level", "debug"], { stdin: `${JSON.stringify({ kind: "CredentialProviderRequest", ...request })}\n`, env: { PLUGIN_PASSWORD: PASSWORD, ...env }, timeoutMs: 20_000 });
  return { ...run, response: run.status === 0 ? JSON.parse(run.stdout) : undefined, lines: run.stderr.split("\n").filter((line) => line.startsWith("credmux: ")) };
}

function chained(plugin: string, extra: Record<string, unknown> = {}) {
  return { name: "vendor", type: "kubelet-plugin", matchImages: ["registry.chain.test"], command: plugin, ...extra };
}

test("a v1 request, a v1beta1 plugin: the plugin gets v1beta1 without service-account fields, credmux answers v1 with its cacheDuration and cacheKeyType", async () => {
  const { plugin, record } = pluginBin();
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ ...chained(plugin, { apiVersion: V1BETA1, args: ["--cache-key-type", "Image", "--cache-duration", "7m"] }), tokenAttributes: TOKEN_ATTRIBUTES }] });
  const run = await exec(config, { apiVersion: V1, image: "registry.chain.test/team/app", serviceAccountToken: SA_TOKEN, serviceAccountAnnotations: { "example.test/role": "puller" } }, { PLUGIN_RECORD: record });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response, {
    kind: "CredentialProviderResponse", apiVersion: V1, cacheKeyType: "Image", cacheDuration: "7m0s",
    auth: { "registry.chain.test": { username: "chained-user", password: PASSWORD } },
  });
  assert.deepEqual(calls(record).map((call) => call.stdin), [`{"kind":"CredentialProviderRequest","apiVersion":"${V1BETA1}","image":"registry.chain.test/team/app"}\n`]);
  assert.match(run.stderr, /the chained plugin speaks an apiVersion without service-account fields; it gets the image only/);
  assert.equal(run.stderr.includes(SA_TOKEN), false);
  assert.equal(run.stderr.includes(PASSWORD), false);
});

test("a v1beta1 request, a v1 plugin: the plugin gets v1, credmux answers v1beta1", async () => {
  const { plugin, record } = pluginBin();
  const config = writeConfig(tempDir(), { providers: [chained(plugin, { args: ["--cache-duration", "90s"] })] });
  const run = await exec(config, { apiVersion: V1BETA1, image: "registry.chain.test/app" }, { PLUGIN_RECORD: record });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.response.apiVersion, V1BETA1);
  assert.equal(run.response.cacheDuration, "1m30s");
  assert.deepEqual(run.response.auth, { "registry.chain.test": { username: "chained-user", password: PASSWORD } });
  assert.equal(JSON.parse(calls(record)[0]!.stdin).apiVersion, V1);
});

test("service-account token and annotations reach a v1 plugin byte for byte as the kubelet writes them, with its args and env", async () => {
  const { plugin, record } = pluginBin();
  const config = writeConfig(tempDir(), {
    providers: [{ ...chained(plugin, { args: ["--username", "sa-user", "--cache-duration", "0s"], env: [{ name: "PLUGIN_MARK", value: "from-config" }, { name: "PATH", value: process.env.PATH! }] }), tokenAttributes: TOKEN_ATTRIBUTES }],
  });
  const run = await exec(config, {
    apiVersion: V1, image: "registry.chain.test/team/app", serviceAccountToken: SA_TOKEN,
    serviceAccountAnnotations: { "example.test/role": "<puller>", "example.test/a&b": "x" },
  }, { PLUGIN_MARK: "from-environment", PLUGIN_RECORD: record });
  assert.equal(run.status, 0, run.stderr);
  const [call] = calls(record);
  assert.equal(call!.stdin,
    `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"registry.chain.test/team/app","serviceAccountToken":"${SA_TOKEN}",` +
    `"serviceAccountAnnotations":{"example.test/a\\u0026b":"x","example.test/role":"\\u003cpuller\\u003e"}}\n`);
  assert.deepEqual(call!.argv, ["--username", "sa-user", "--cache-duration", "0s"]);
  assert.equal(call!.mark, "from-config", "the config's env entries override the environment, as in the kubelet");
  assert.equal(run.response.auth["registry.chain.test"].username, "sa-user");
  assert.equal(run.response.cacheDuration, "0s", "a plugin's 0s reaches the kubelet");
});

test("the plugin's cacheDuration is the cache's lifetime: 0s is fetched every exec, 10m once", async () => {
  for (const [duration, expectedCalls] of [["0s", 2], ["10m", 1]] as const) {
    const { plugin, record } = pluginBin();
    const dir = tempDir();
    const config = writeConfig(dir, { cache: { dir: path.join(dir, "cache") }, providers: [chained(plugin, { args: ["--cache-duration", duration] })] });
    for (let i = 0; i < 2; i++) {
      const run = await exec(config, { apiVersion: V1, image: "registry.chain.test/app" }, { PLUGIN_RECORD: record });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.response.auth["registry.chain.test"].password, PASSWORD);
    }
    assert.equal(calls(record).length, expectedCalls, `cacheDuration ${duration}`);
  }
});

test("no cacheDuration: defaultCacheDuration applies, as in the kubelet's config", async () => {
  const { plugin } = pluginBin();
  const config = writeConfig(tempDir(), { providers: [chained(plugin, { defaultCacheDuration: "3m" })] });
  const run = await exec(config, { apiVersion: V1, image: "registry.chain.test/app" });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.response.cacheDuration, "3m0s");
});

test("credmux's own bundle chained as a v1beta1 plugin under another config", async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "token"), "inner-token-Vb55\n");
  const inner = writeConfig(dir, { providers: [{ name: "inner", type: "token", matchImages: ["registry.chain.test"], username: "inner-user", secretFile: "token" }] }, "inner.json");
  const outer = writeConfig(dir, { providers: [chained(process.execPath, { args: [BUNDLE, "--config", inner], apiVersion: V1BETA1 })] }, "outer.json");
  const run = await exec(outer, { apiVersion: V1, image: "registry.chain.test/team/app" });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response, {
    kind: "CredentialProviderResponse", apiVersion: V1, cacheKeyType: "Registry", cacheDuration: "5m0s",
    auth: { "registry.chain.test": { username: "inner-user", password: "inner-token-Vb55" } },
  });
});

test("bad plugins fail on one line, as the kubelet would reject them, without leaking the token", async () => {
  const { plugin } = pluginBin();
  const dir = tempDir();
  const what = plugin;
  const strict = "(the kubelet would reject this response too; check the plugin's version and apiVersion)";
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["another apiVersion", { args: ["--mode", "wrong-version"] }, `credmux: provider vendor (kubelet-plugin): ${what}: response apiVersion is "${GROUP}/v1alpha1", expected "${V1}" as configured ${strict}`],
    ["docker's auth field", { args: ["--mode", "unknown-field"] }, `credmux: provider vendor (kubelet-plugin): ${what}: response auth["registry.chain.test"] has unknown field "auth" ${strict}`],
    ["a bad cacheKeyType", { args: ["--mode", "bad-key-type"] }, `credmux: provider vendor (kubelet-plugin): ${what}: response cacheKeyType is "registry", expected one of Image, Registry, Global ${strict}`],
    ["a bad cacheDuration", { args: ["--cache-duration", "1d"] }, `credmux: provider vendor (kubelet-plugin): ${what}: response cacheDuration "1d" is not a Go duration string ${strict}`],
    ["a log line on stdout", { args: ["--mode", "non-json"] }, /^credmux: provider vendor \(kubelet-plugin\): \S+: printed \d+ characters on stdout that are not one JSON document/ as unknown as string],
    ["nothing on stdout", { args: ["--mode", "silent"] }, `credmux: provider vendor (kubelet-plugin): ${what}: printed nothing on stdout ${strict}`],
    ["a failure", { args: ["--mode", "fail"] }, `credmux: provider vendor (kubelet-plugin): ${what} exited with status 3 for registry.chain.test/app: token exchange refused for *** (run the plugin by hand with the same request to see why)`],
    ["a missing program", { command: "./no-such-plugin" }, `credmux: provider vendor (kubelet-plugin): ${dir}/no-such-plugin: cannot run it: no such file (check the configured path)`],
  ];
  for (const [name, options, line] of cases) {
    const config = writeConfig(dir, { providers: [{ ...chained(plugin, options), tokenAttributes: TOKEN_ATTRIBUTES }] });
    const run = await exec(config, { apiVersion: V1, image: "registry.chain.test/app", serviceAccountToken: SA_TOKEN });
    assert.equal(run.status, 1, name);
    assert.equal(run.stdout, "", name);
    assert.equal(run.lines.length, 1, `${name}: ${run.stderr}`);
    if (typeof line === "string") assert.equal(run.lines[0], line, name);
    else assert.match(run.lines[0]!, line as RegExp, name);
    for (const secret of [SA_TOKEN, PASSWORD]) assert.equal(run.stderr.includes(secret), false, `${name}: a secret leaked`);
  }
});

test("a hanging plugin is killed at the deadline", async () => {
  const { plugin, record } = pluginBin();
  const config = writeConfig(tempDir(), { defaults: { timeout: "1s" }, providers: [chained(plugin, { args: ["--mode", "hang"] })] });
  const run = await exec(config, { apiVersion: V1, image: "registry.chain.test/app" }, { PLUGIN_RECORD: record });
  assert.equal(run.status, 1);
  assert.match(run.lines[0]!, /^credmux: provider vendor \(kubelet-plugin\): (no answer within 1s|\S+: no answer before the deadline; killed it and its process group)/);
  assert.equal(calls(record).length, 1);
});

test("a plugin that answers and exits, leaving background children (one holding stdout): the pull succeeds and every one is killed", async () => {
  const { program, pidFile } = installForkingProgram();
  const config = writeConfig(tempDir(), { defaults: { timeout: "20s" }, providers: [chained(program)] });
  const descendants = [{ holdsStdout: true, depth: 1, ownSession: false }, { holdsStdout: false, depth: 2, ownSession: false }];
  const run = await exec(config, { apiVersion: V1, image: "registry.chain.test/app" }, { FORK_SPEC: JSON.stringify(descendants), FORK_PIDS: pidFile, FORK_SECRET: PASSWORD });
  const pids = readForkPids(pidFile);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(run.response.auth, { "registry.chain.test": { username: "forking-user", password: PASSWORD } });
  assert.ok(pids.descendants.length >= 2);
  assert.deepEqual(await stillRunning(pids.descendants, [pids.program]), []);
});

test("the decoder and encoder in process: the kubelet's exact request bytes, null auth, Go durations", () => {
  assert.equal(encodePluginRequest({ image: "test.registry.io/foobar", registry: "test.registry.io", apiVersion: V1 }, V1),
    `{"kind":"CredentialProviderRequest","apiVersion":"${V1}","image":"test.registry.io/foobar"}\n`);
  const decoded = decodePluginResponse(JSON.stringify({ kind: "CredentialProviderResponse", apiVersion: V1, cacheKeyType: "Global", cacheDuration: "1h30m", auth: null }), V1, "p");
  assert.deepEqual(decoded, { auth: {}, cacheKeyType: "Global", cacheDurationMs: 5_400_000 });
  assert.throws(() => decodePluginResponse(JSON.stringify({ kind: "CredentialProviderResponse", apiVersion: V1, cacheKeyType: "Image", cacheDuration: 3600 }), V1, "p"),
    /cacheDuration 3600 is not a Go duration string/);
  assert.throws(() => decodePluginResponse(JSON.stringify({ kind: "CredentialProviderResponse", apiVersion: V1, cacheKeyType: "Image", extra: 1 }), V1, "p"), /unknown field "extra"/);
  assert.equal(kubeletPlugin.options().safeParse({ command: "/p", apiVersion: "v1" }).success, false, "apiVersion is the full group/version, as in the kubelet's config");
  assert.equal(kubeletPlugin.options().safeParse({ command: "/p", defaultCacheDuration: "1d" }).success, false);
});

// The single executable (build.mjs --sea): built here from the bundle, then held to it. Every
// protocol fixture gives the same stdout, stderr and exit status through both, byte for byte; the
// deferred modules come from SEA assets; external provider modules still load; NODE_OPTIONS cannot
// inject code. Without Node 24 from the npm registry or postject, the tests fail under CI and are
// skipped elsewhere, naming what is missing.
import { before, test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { SEA_NODE_VERSION, seaCacheDir, seaNodeBinary, type SeaArch } from "../build/sea-node.js";
import { builtinProviders } from "../providers/registry.js";
import { daemonSetImageRoundTrip } from "./helpers/daemonset-image.js";
import { BUNDLE, FIXTURES, REPO_ROOT } from "./helpers/paths.js";
import { baseEnv, runBundle } from "./helpers/run-bundle.js";
import { runProgram, type ProgramOptions } from "./helpers/run-program.js";
import { tempDir, trustedTempDir, writeConfig } from "./helpers/temp.js";
import { startTokenServer } from "./helpers/token-server.js";

const SEA = path.join(REPO_ROOT, "dist", `credmux-linux-${process.arch}`);
const IN_CI = process.env.CI === "true" || process.env.CI === "1";
const BUILD_TIMEOUT_MS = 10 * 60_000;

let unavailable: string | undefined;

/** Why the SEA cannot be built on this machine, or undefined when it can. */
function missingPrerequisite(): string | undefined {
  if (process.platform !== "linux" || !["x64", "arm64"].includes(process.arch)) return `no single executable for ${process.platform}-${process.arch}`;
  try {
    require.resolve("postject");
  } catch {
    return "postject is not installed (npm ci installs it)";
  }
  const arch = process.arch as SeaArch;
  if (fs.existsSync(seaNodeBinary(arch, seaCacheDir()))) return undefined;
  const view = spawnSync("npm", ["view", `node-linux-${arch}@${SEA_NODE_VERSION}`, "version"], { encoding: "utf8", timeout: 60_000 });
  if (view.status !== 0 || view.stdout.trim() !== SEA_NODE_VERSION) return `node-linux-${arch}@${SEA_NODE_VERSION} is not reachable on the npm registry (${(view.stderr || view.error?.message || "").trim().split("\n").at(-1)})`;
  return undefined;
}

before(async () => {
  unavailable = missingPrerequisite();
  if (unavailable) return;
  // From the bundle the other tests run, so that both hold the same code.
  const started = Date.now();
  const build = await runProgram(process.execPath, [path.join(REPO_ROOT, "build.mjs"), "--sea-only", `--sea-arch=${process.arch}`], { timeoutMs: BUILD_TIMEOUT_MS, env: { ...process.env } });
  assert.equal(build.status, 0, `node build.mjs --sea-only failed: ${build.stderr}`);
  process.stderr.write(`# sea: built ${path.relative(REPO_ROOT, SEA)} (${(fs.statSync(SEA).size / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}, { timeout: BUILD_TIMEOUT_MS + 60_000 });

/** Skips (locally) or fails (CI) when the SEA could not be built here. */
function requireSea(t: TestContext): boolean {
  if (!unavailable) return true;
  const message = `single executable not built: ${unavailable}`;
  if (IN_CI) assert.fail(`${message} (CI must build it)`);
  t.skip(message);
  return false;
}

type RunOptions = Omit<ProgramOptions, "env"> & { env?: Record<string, string | undefined> };

const runSea = (args: readonly string[], options: RunOptions = {}) => runProgram(SEA, args, { ...options, env: baseEnv(options.env) });

/** Log lines carry the time they were written, and the exec summary its duration; everything else must be equal byte for byte. */
const withoutTimes = (text: string) => text.replace(/"time":"[^"]*"/g, '"time":"T"').replace(/"ms":\d+/g, '"ms":0');

interface ProtocolCase {
  name: string;
  config: string;
  stdin: unknown;
}
const protocolCases = JSON.parse(fs.readFileSync(path.join(FIXTURES, "protocol-cases.json"), "utf8")) as { good: ProtocolCase[]; bad: ProtocolCase[] };

for (const [kind, list] of Object.entries(protocolCases)) {
  for (const c of list) {
    test(`single executable = bundle, ${kind} case: ${c.name}`, async (t) => {
      if (!requireSea(t)) return;
      const args = ["--config", path.join(FIXTURES, "configs", c.config)];
      const stdin = typeof c.stdin === "string" ? c.stdin : `${JSON.stringify(c.stdin)}\n`;
      const [bundle, sea] = await Promise.all([runBundle(args, { stdin }), runSea(args, { stdin })]);
      assert.equal(sea.status, bundle.status, "exit status");
      assert.equal(sea.stdout, bundle.stdout, "stdout, byte for byte");
      assert.equal(withoutTimes(sea.stderr), withoutTimes(bundle.stderr), "stderr, byte for byte but for log timestamps");
    });
  }
}

test("single executable: the deferred modules are SEA assets (a YAML config, pino logging), the same answers as the bundle", async (t) => {
  if (!requireSea(t)) return;
  // The SEA main holds no deferred section: a fallback to reading the executable would fail here.
  const request = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "quay.test/x" })}\n`;
  const args = ["--config", path.join(FIXTURES, "configs", "basic.yaml"), "--log-level", "debug"];
  const [bundle, sea] = await Promise.all([runBundle(args, { stdin: request }), runSea(args, { stdin: request })]);
  assert.equal(sea.status, 0, sea.stderr);
  assert.equal(sea.stdout, bundle.stdout);
  assert.match(sea.stderr, /"level":"warn".*no provider matches this image/);
  assert.equal(withoutTimes(sea.stderr), withoutTimes(bundle.stderr));
  // `version` names each one's build and Node; the rest of its line, and every other output, is the same.
  const sameBuild = (text: string) => text.replace(/\(build [0-9a-f]+, node v[\d.]+,/, "(build B, node N,");
  for (const command of [["version"], ["--help"], ["kubelet-config", "--config", path.join(FIXTURES, "configs", "basic.yaml")]]) {
    const [b, s] = await Promise.all([runBundle(command), runSea(command)]);
    assert.deepEqual([s.status, sameBuild(s.stdout), s.stderr], [b.status, sameBuild(b.stdout), b.stderr], command.join(" "));
  }
});

test("single executable: a deferred provider and the AWS SDK load from SEA assets, with the bundle's answer", async (t) => {
  if (!requireSea(t)) return;
  assert.ok(Object.hasOwn(builtinProviders, "ecr"), "the ecr provider is in providers/registry.ts");
  // The SDK reaches a closed loopback port: the answer is the provider's one-line error, the same from both.
  const dir = tempDir();
  const config = writeConfig(dir, {
    defaults: { timeout: "5s" },
    providers: [{ name: "ecr", type: "ecr", matchImages: ["*.dkr.ecr.*.amazonaws.com"], endpoint: "http://127.0.0.1:9", maxAttempts: 1 }],
  });
  const env = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "example-secret", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" };
  const stdin = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "111122223333.dkr.ecr.us-east-1.amazonaws.com/app" })}\n`;
  const [bundle, sea] = await Promise.all([runBundle(["--config", config], { stdin, env }), runSea(["--config", config], { stdin, env })]);
  assert.equal(sea.status, 1, sea.stderr);
  assert.match(sea.human, /^credmux: provider ecr: ecr: GetAuthorizationToken .*127\.0\.0\.1:9/);
  assert.deepEqual([sea.status, sea.stdout, withoutTimes(sea.stderr)], [bundle.status, bundle.stdout, withoutTimes(bundle.stderr)]);
});

test("single executable: external provider modules load, CommonJS and ES modules alike", async (t) => {
  if (!requireSea(t)) return;
  const server = await startTokenServer();
  const dir = trustedTempDir();
  fs.writeFileSync(path.join(dir, "esm-provider.mjs"), [
    "export default {",
    "  type: 'esm-static',",
    "  create(options) { return async (request) => ({ auth: { [request.registry]: { username: 'esm', password: options.password } } }); },",
    "};",
  ].join("\n"));
  const config = writeConfig(dir, {
    providers: [
      { name: "tokens", type: "module", module: path.join(FIXTURES, "providers", "http-token-provider.js"), matchImages: ["tokens.test"], endpoint: server.url },
      { name: "esm", type: "module", module: "./esm-provider.mjs", matchImages: ["esm.test"], password: "esm-secret" },
    ],
  });
  const ask = (image: string) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image })}\n`;
  const tokens = await runSea(["--config", config], { stdin: ask("tokens.test/app") });
  assert.equal(tokens.status, 0, tokens.stderr);
  assert.equal(JSON.parse(tokens.stdout).auth["tokens.test"].username, "token-user");
  assert.equal(server.calls("tokens.test"), 1, "the module's request reached the loopback endpoint");
  const esm = await runSea(["--config", config], { stdin: ask("esm.test/app") });
  assert.equal(esm.status, 0, esm.stderr);
  assert.deepEqual(JSON.parse(esm.stdout).auth, { "esm.test": { username: "esm", password: "esm-secret" } });
});

test("single executable: NODE_OPTIONS cannot inject code (execArgvExtension none), where the bundle would run it", async (t) => {
  if (!requireSea(t)) return;
  const dir = tempDir();
  const marker = path.join(dir, "injected");
  const inject = path.join(dir, "inject.cjs");
  fs.writeFileSync(inject, `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");\n`);
  const env = { NODE_OPTIONS: `--require ${inject}` };
  const request = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "registry.test/app" })}\n`;
  const args = ["--config", path.join(FIXTURES, "configs", "basic.json")];
  const sea = await runSea(args, { stdin: request, env });
  assert.equal(sea.status, 0, sea.stderr);
  assert.ok(!fs.existsSync(marker), "the single executable ignored NODE_OPTIONS");
  const bundle = await runBundle(args, { stdin: request, env });
  assert.equal(bundle.status, 0, bundle.stderr);
  assert.ok(fs.existsSync(marker), "the same NODE_OPTIONS does inject into node running the bundle");
  assert.equal(sea.stdout, bundle.stdout);
});

test("single executable: install copies the running executable itself", async (t) => {
  if (!requireSea(t)) return;
  const dir = tempDir();
  const root = path.join(dir, "root");
  const config = writeConfig(dir, { providers: [{ name: "registry", type: "dockercfg", matchImages: ["registry.test"], files: [path.join(FIXTURES, "dockercfg", "registry.json")] }] });
  const installed = await runSea(["install", "--profile", "k3s", "--root", root, "--config", config], { timeoutMs: 60_000 });
  assert.equal(installed.status, 0, installed.stderr);
  assert.match(installed.stdout, /written\s+\/var\/lib\/rancher\/credentialprovider\/bin\/credmux \(the single executable, 0755\)/);
  const copy = path.join(root, "var/lib/rancher/credentialprovider/bin/credmux");
  assert.ok(fs.readFileSync(copy).equals(fs.readFileSync(SEA)), "byte for byte");
  assert.equal(fs.statSync(copy).mode & 0o777, 0o755);
  const version = await runProgram(copy, ["version"], { env: baseEnv() });
  assert.equal(version.stdout, (await runSea(["version"])).stdout, "the copy runs");
  assert.ok(fs.existsSync(BUNDLE));
});

// Here, not in a file of its own: it needs the executable this file's before() builds, and two test
// files building it at once would race on dist/.
test("npm run build:image's image goes through a registry and back, and its entrypoint installs credmux into the host root as the DaemonSet runs it", { timeout: 300_000 }, async (t) => {
  if (!requireSea(t)) return;
  await daemonSetImageRoundTrip(t);
});

// Here, after before() built it: a file of its own would run before this one and find nothing to check.
test("the single executable built here carries no symbol table (stripped)", async (t) => {
  if (!requireSea(t)) return;
  const sections = await runProgram("readelf", ["-S", "-W", SEA], { env: { PATH: process.env.PATH } });
  assert.equal(sections.status, 0, sections.stderr);
  assert.doesNotMatch(sections.stdout, /\.symtab\b/, "no symbol table");
});

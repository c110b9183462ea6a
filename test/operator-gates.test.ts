// Gates an operator on a node relies on, through the built bundle where the exec is concerned: where
// the config is found (one search order for every command, the one `install` writes to), patterns
// the kubelet would never match refused, an empty answer that says why, and a log level setting that
// cannot fail every pull.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { configPath, DEFAULT_CONFIG_PATHS, shadowedDefaultConfigs } from "../src/config-location.js";
import { unmatchablePatternProblem } from "../src/unmatchable-pattern.js";
import { startOAuthServer } from "./helpers/oauth-server.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const JSON_DEFAULT = "/etc/credmux/config.json";
const YAML_DEFAULT = "/etc/credmux/config.yaml";
const existing = (...files: string[]) => (file: string) => files.includes(file);

test("the config search: --config, then CREDMUX_CONFIG, then install's config.json, then config.yaml", () => {
  assert.deepEqual(DEFAULT_CONFIG_PATHS, [JSON_DEFAULT, YAML_DEFAULT]);
  const cases: Array<[name: string, flag: string | undefined, env: Record<string, string>, exists: (file: string) => boolean, expected: string]> = [
    ["--config wins over everything", "/x/flag.yaml", { CREDMUX_CONFIG: "/x/env.yaml" }, existing(JSON_DEFAULT, YAML_DEFAULT), "/x/flag.yaml"],
    ["CREDMUX_CONFIG wins over the defaults", undefined, { CREDMUX_CONFIG: "/x/env.yaml" }, existing(JSON_DEFAULT), "/x/env.yaml"],
    ["install's JSON before an older YAML", undefined, {}, existing(JSON_DEFAULT, YAML_DEFAULT), JSON_DEFAULT],
    ["the YAML when it is the only one", undefined, {}, existing(YAML_DEFAULT), YAML_DEFAULT],
    ["neither: the first, so the error names where it is expected", undefined, {}, existing(), JSON_DEFAULT],
  ];
  for (const [name, flag, env, exists, expected] of cases) assert.equal(configPath(flag, env, exists), expected, name);
});

test("a default config passed over by the search is reported, and only a default one", () => {
  assert.deepEqual(shadowedDefaultConfigs(JSON_DEFAULT, existing(JSON_DEFAULT, YAML_DEFAULT)), [YAML_DEFAULT]);
  assert.deepEqual(shadowedDefaultConfigs(JSON_DEFAULT, existing(JSON_DEFAULT)), []);
  assert.deepEqual(shadowedDefaultConfigs(YAML_DEFAULT, existing(JSON_DEFAULT, YAML_DEFAULT)), []);
  assert.deepEqual(shadowedDefaultConfigs("/x/flag.yaml", existing(JSON_DEFAULT, YAML_DEFAULT)), []);
});

const UNMATCHABLE: Array<[pattern: string, problem: string | undefined]> = [
  ["https://harbor.example.com", `starts with "https://", which no image name has (the kubelet matches patterns as written): write the registry as host[:port][/path]`],
  ["http://harbor.example.com/team", `starts with "http://", which no image name has (the kubelet matches patterns as written): write the registry as host[:port][/path]`],
  ["harbor..example.com", "has an empty label in its host (a leading, trailing or doubled '.'), which no registry's name has"],
  [".example.com", "has an empty label in its host (a leading, trailing or doubled '.'), which no registry's name has"],
  ["example.com.:5000/x", "has an empty label in its host (a leading, trailing or doubled '.'), which no registry's name has"],
  ["index.docker.io", "names index.docker.io, but the kubelet asks for Docker Hub images as docker.io/...: write docker.io"],
  ["registry-1.docker.io/library", "names registry-1.docker.io, but the kubelet asks for Docker Hub images as docker.io/...: write docker.io/library"],
  ["docker.io", undefined],
  ["harbor.example.com/", undefined],
  ["*.dkr.ecr.*.amazonaws.com", undefined],
  ["[::1]:5000/team", undefined],
  ["localhost:5000", undefined],
];

test("patterns that can never match an image the kubelet sends, and usable ones", () => {
  for (const [pattern, problem] of UNMATCHABLE) assert.equal(unmatchablePatternProblem(pattern), problem, pattern);
});

test("validate and the kubelet exec refuse a pattern that can never match, instead of answering {\"auth\":{}}", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "harbor", type: "token", username: "robot", secretEnv: "HARBOR_TOKEN", matchImages: ["harbor.example.com", "https://harbor.example.com"] }] });
  const expected = `credmux: config ${config}: providers[0].matchImages[1] (provider "harbor"): never matches an image: it starts with "https://", which no image name has (the kubelet matches patterns as written): write the registry as host[:port][/path]`;
  const validate = await runBundle(["validate", "--config", config]);
  assert.equal(validate.status, 1);
  assert.equal(validate.stderr.trim().split("\n").at(-1), expected);
  const exec = await runBundle(["--config", config], {
    env: { HARBOR_TOKEN: "t0ken" },
    stdin: JSON.stringify({ apiVersion: "credentialprovider.kubelet.k8s.io/v1", kind: "CredentialProviderRequest", image: "harbor.example.com/team/app" }),
  });
  assert.equal(exec.status, 1);
  assert.equal(exec.stdout, "");
  assert.equal(exec.stderr.trim().split("\n").at(-1), expected);
});

test("install says when a config.yaml beside the config.json it writes is no longer read", async () => {
  const work = tempDir();
  const root = path.join(work, "root");
  const config = writeConfig(work, { providers: [{ name: "harbor", type: "token", username: "robot", secretEnv: "HARBOR_TOKEN", matchImages: ["harbor.example.com"] }] }, "source.json");
  fs.mkdirSync(path.join(root, "etc", "credmux"), { recursive: true });
  fs.writeFileSync(path.join(root, YAML_DEFAULT), "apiVersion: credmux/v1alpha1\n");
  const run = await runBundle(["install", "--profile", "custom", "--root", root, "--config", config], {
    env: { CREDMUX_INSTALL_BIN_DIR: "/usr/local/bin", CREDMUX_INSTALL_KUBELET_CONFIG: "/etc/kubernetes/credential-provider-config.yaml" },
  });
  assert.equal(run.status, 0, run.stderr);
  assert.ok(run.stdout.split("\n").includes(`note: ${YAML_DEFAULT} is no longer read: credmux's commands read ${JSON_DEFAULT} first; remove ${YAML_DEFAULT} so that nobody edits it`), run.stdout);
});

/** The plugin's stderr: one pino JSON line each. */
const logLines = (stderr: string) => stderr.trim().split("\n").map((line) => JSON.parse(line) as { level: string; msg: string });
const REQUEST = (image: string) => JSON.stringify({ apiVersion: "credentialprovider.kubelet.k8s.io/v1", kind: "CredentialProviderRequest", image });

test("a dockercfg provider that finds no file on the kubelet's search path answers nothing and says where it looked, at warn", async () => {
  const dir = tempDir();
  const rootDir = path.join(dir, "kubelet");
  const config = writeConfig(dir, { providers: [{ name: "node", type: "dockercfg", matchImages: ["registry.test"], rootDir }] });
  const home = path.join(dir, "home");
  const cwd = path.join(dir, "cwd");
  fs.mkdirSync(cwd);
  const run = await runBundle(["--config", config], { stdin: REQUEST("registry.test/app"), cwd, env: { HOME: home } });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).auth, {});
  const searched = [`${rootDir}/config.json`, `${cwd}/config.json`, `${home}/.docker/config.json`, "/.docker/config.json",
    `${rootDir}/.dockercfg`, `${cwd}/.dockercfg`, `${home}/.dockercfg`, "/.dockercfg"];
  assert.ok(logLines(run.stderr).some((line) => line.level === "warn" && line.msg.endsWith(
    `no docker config file on the kubelet's search path (searched ${searched.join(", ")}): answering no credentials; list the file in the provider's files`)), run.stderr);
});

test("an invalid CREDMUX_LOG_LEVEL warns and logs at warn instead of failing every pull; an invalid --log-level is a usage error", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "harbor", type: "token", username: "robot", secretEnv: "HARBOR_TOKEN", matchImages: ["harbor.example.com"] }] });
  const run = await runBundle(["--config", config], { stdin: REQUEST("harbor.example.com/app"), env: { HARBOR_TOKEN: "t0ken", CREDMUX_LOG_LEVEL: "verbose" } });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).auth["harbor.example.com"].username, "robot");
  assert.ok(logLines(run.stderr).some((line) => line.level === "warn" &&
    line.msg === `CREDMUX_LOG_LEVEL "verbose" is not one of debug, info, warn, error, silent; logging at warn (or the config's level)`), run.stderr);
  const flag = await runBundle(["validate", "--config", config, "--log-level", "verbose"]);
  assert.notEqual(flag.status, 0);
  assert.match(flag.stderr, /log level "verbose" is not one of debug, info, warn, error, silent/);
});

test("at info, one line per exec: the image, each provider's cache hit or miss, the keys by registry, cacheDuration; never a secret", async () => {
  const clientSecret = "client-secret-Ygv27q";
  const server = await startOAuthServer({ clientAuth: "basic", clientId: "robot", clientSecret, fields: { grant_type: ["client_credentials"] } });
  try {
    server.mode = { kind: "token", expiresIn: 3600 };
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, "client-secret"), `${clientSecret}\n`);
    const config = writeConfig(dir, {
      cache: { dir: path.join(dir, "cache") },
      defaults: { expiryMargin: "10m" },
      providers: [
        { name: "idp", type: "oauth2", matchImages: ["registry.test"], tokenUrl: server.url, grant: "client_credentials", username: "robot", clientId: "robot", clientSecretFile: "client-secret" },
        { name: "elsewhere", type: "token", username: "robot", secretEnv: "UNUSED", matchImages: ["other.test"] },
      ],
    });
    const summaries: Array<{ msg: string; providers: unknown; keys: unknown; cacheKeyType: string; cacheDuration: string; ms: number }> = [];
    for (const round of ["miss", "hit"]) {
      const run = await runBundle(["--config", config, "--log-level", "info"], { stdin: REQUEST("registry.test/team/app") });
      assert.equal(run.status, 0, `${round}: ${run.stderr}`);
      const lines = logLines(run.stderr).filter((line) => line.level === "info");
      assert.equal(lines.length, 1, `${round}: one info line, found ${run.stderr}`);
      assert.ok(!run.stderr.includes(clientSecret) && !run.stderr.includes(server.issued[0]!), `${round}: no secret in ${run.stderr}`);
      summaries.push(lines[0] as unknown as (typeof summaries)[number]);
    }
    assert.deepEqual(summaries.map(({ msg, providers, keys, cacheKeyType }) => ({ msg, providers, keys, cacheKeyType })), [
      { msg: "registry.test/team/app: 1 key (idp miss)", providers: { idp: "miss" }, keys: { "registry.test": ["registry.test"] }, cacheKeyType: "Registry" },
      { msg: "registry.test/team/app: 1 key (idp hit)", providers: { idp: "hit" }, keys: { "registry.test": ["registry.test"] }, cacheKeyType: "Registry" },
    ]);
    for (const summary of summaries) {
      assert.match(summary.cacheDuration, /^(50m0s|49m5\ds)$/);
      assert.equal(typeof summary.ms, "number");
    }
    assert.equal(server.requests.length, 1, "the second exec was answered by the cache");
  } finally {
    await server.close();
  }
});

test("human commands print warnings as text in their own style; the plugin's stderr stays JSON, and log.file is JSON for both", async () => {
  const dir = tempDir();
  const logFile = path.join(dir, "credmux.log");
  const config = writeConfig(dir, { log: { file: logFile }, providers: [{ name: "harbor", type: "token", username: "robot", secretEnv: "HARBOR_TOKEN", matchImages: ["harbor.example.com"] }] });
  const warning = "no provider matches this image, so it gets no credentials; the kubelet's matchImages and credmux's config disagree (run `credmux explain IMAGE` to compare)";
  const check = await runBundle(["check", "quay.io/x", "--config", config], { env: { HARBOR_TOKEN: "t0ken" } });
  assert.equal(check.status, 0, check.stderr);
  assert.equal(check.stderr, `credmux: warning: ${warning} (image: quay.io/x, config: ${config})\n`);
  const plugin = await runBundle(["--config", config], { stdin: REQUEST("quay.io/x"), env: { HARBOR_TOKEN: "t0ken" } });
  assert.equal(plugin.status, 0, plugin.stderr);
  assert.deepEqual(logLines(plugin.stderr).map((line) => [line.level, line.msg]), [["warn", warning]]);
  const filed = fs.readFileSync(logFile, "utf8").trim().split("\n").map((line) => JSON.parse(line) as { level: string; msg: string; image: string });
  assert.deepEqual(filed.map((line) => [line.level, line.msg, line.image]), [["warn", warning, "quay.io/x"], ["warn", warning, "quay.io/x"]]);
});

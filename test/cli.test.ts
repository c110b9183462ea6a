// The commands for people, through the built bundle: check, explain, match, validate, version, help.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FIXTURES, REPO_ROOT } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";

const BASIC = path.join(FIXTURES, "configs", "basic.json");

test("check shows each provider, the masked keys and what the kubelet would try, in order", async () => {
  const run = await runBundle(["check", "registry.test/team-a/app:v1", "quay.test/x", "--config", BASIC]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^registry\.test\/team-a\/app \(from registry\.test\/team-a\/app:v1\)$/m);
  assert.match(run.stdout, /registry \(dockercfg\): matched "registry\.test", answered 2 keys for this registry/);
  assert.match(run.stdout, /hub \(dockercfg\): not asked: no matchImages pattern matches/);
  assert.match(run.stdout, /1\. registry\.test\/team-a \(username "team-a"\)\n\s+2\. registry\.test \(username "ci-robot"\)/);
  assert.match(run.stdout, /quay\.test\/x\n[\s\S]*result: no credentials/);
  assert.ok(!run.stdout.includes("registry-secret-1") && !run.stdout.includes("team-a-secret-2"), "secrets masked");
});

test("check --json is machine-readable and masked", async () => {
  const run = await runBundle(["check", "--json", "nginx", "--config", BASIC]);
  assert.equal(run.status, 0, run.stderr);
  const [report] = JSON.parse(run.stdout);
  assert.equal(report.image, "docker.io/library/nginx");
  assert.deepEqual(report.kubeletWouldTry, [{ key: "docker.io", username: "hubuser" }]);
  assert.equal(report.providers[1].keys[0].password, "***(12 chars)");
});

test("check exits 1 and shows the failure when a provider fails", async () => {
  const run = await runBundle(["check", "registry.test/x", "--config", path.join(FIXTURES, "configs", "malformed-dockercfg.json")]);
  assert.equal(run.status, 1);
  assert.match(run.stdout, /FAILED: provider registry: dockercfg: .*malformed\.json: malformed JSON/);
});

test("explain says why each pattern does not match", async () => {
  const run = await runBundle(["explain", "registry.test:5000/team/app", "--config", BASIC]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /registry \(dockercfg\): asked \("registry\.test:5000" match\)/);
  assert.match(run.stdout, /"registry\.test": the image has port 5000 and the pattern none; list "registry\.test:5000" as well/);
  assert.match(run.stdout, /"\*\.registry\.test": .*port/);
  assert.match(run.stdout, /hub \(dockercfg\): not asked/);
});

test("match applies the kubelet's rule and sets the exit status", async () => {
  const cases: Array<[string, string, number]> = [
    ["docker.io", "nginx", 0],
    ["*.registry.test", "registry.test/x", 1],
    ["registry.test/*", "registry.test/team/app", 1],
    ["*.*", "nginx:1.25", 0],
  ];
  for (const [pattern, image, status] of cases) {
    const run = await runBundle(["match", pattern, image]);
    assert.equal(run.status, status, `${pattern} ${image}: ${run.stdout}${run.stderr}`);
  }
});

test("validate summarises a good config and reports a bad one in one line", async () => {
  const good = await runBundle(["validate", "--config", BASIC]);
  assert.equal(good.status, 0, good.stderr);
  assert.match(good.stdout, /is valid: 3 providers/);
  const bad = await runBundle(["validate", "--config", path.join(FIXTURES, "configs", "unknown-field.json")]);
  assert.equal(bad.status, 1);
  assert.match(bad.human, /^credmux: config .*unknown-field\.json: top level: unknown field "cahce" \(did you mean "cache"\?\)\n$/);
});

test("version, help on every command, and usage errors", async () => {
  const version = await runBundle(["version"]);
  const { version: packageVersion } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  assert.match(version.stdout, new RegExp(`^credmux ${escape(packageVersion)} \\(build [0-9a-f]{12}, node ${escape(process.version)}, ${process.platform}/${process.arch}\\)\n$`));
  for (const [argv, help] of [[["help"], "Usage: credmux [command]"], [["help", "check"], "Usage: credmux check IMAGE..."], [["help", "kubelet-config"], "Usage: credmux kubelet-config"]] as const) {
    const run = await runBundle([...argv]);
    assert.equal(run.status, 0, argv.join(" "));
    assert.ok(run.stdout.startsWith(help), `${argv.join(" ")}: ${run.stdout}`);
  }
  for (const command of [[], ["check"], ["explain"], ["match"], ["validate"]]) {
    const run = await runBundle([...command, "--help"]);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^Usage: credmux/);
  }
  // Exit 2 for every usage error, as kubectl does; 1 stays a failure (and match's "no match").
  const usage: Array<[argv: string[], stderr: string]> = [
    [["frobnicate"], 'credmux: unknown command "frobnicate" (see credmux --help)\n'],
    [["check", "--bogus", "x"], "credmux: unknown option --bogus for check (see credmux check --help)\n"],
    [["validate", "--log-level", "loud"], 'credmux: log level "loud" is not one of debug, info, warn, error, silent (see credmux --help)\n'],
    [["match", "only-a-pattern"], "credmux: match takes exactly a PATTERN and an IMAGE (see credmux match --help)\n"],
    [["check"], "credmux: check needs at least one IMAGE (see credmux check --help)\n"],
    [["chek", "x"], 'credmux: unknown command "chek" (did you mean "check"? see credmux --help)\n'],
    [["help", "instal"], 'credmux: unknown command "instal" (did you mean "install"? see credmux --help)\n'],
    [["help", "plugin"], 'credmux: unknown command "plugin" (see credmux --help)\n'],
    [["check", "--jsn", "x"], "credmux: unknown option --jsn for check (did you mean --json? see credmux check --help)\n"],
    [["match", "-o", "xml", "docker.io", "nginx"], 'credmux: -o must be one of table, json, yaml, found "xml" (see credmux match --help)\n'],
    [["install", "--profile", "nowhere"], 'credmux: unknown profile "nowhere", expected one of eks, k3s, rke2, kubeadm, aks, gke, kops, custom (see credmux install --help)\n'],
  ];
  for (const [argv, stderr] of usage) {
    const run = await runBundle(argv);
    assert.deepEqual([run.status, run.stderr], [2, stderr], argv.join(" "));
  }
  const miss = await runBundle(["match", "registry.test", "other.test/x"]);
  assert.equal(miss.status, 1, "match: a miss is 1, not a usage error");
});

test("-o json|yaml gives check, explain and match's reports as data", async () => {
  const match = await runBundle(["match", "docker.io", "nginx", "-o", "json"]);
  assert.deepEqual([match.status, JSON.parse(match.stdout)], [0, { pattern: "docker.io", image: "docker.io/library/nginx", input: "nginx", match: true }]);
  const miss = await runBundle(["match", "--output=yaml", "quay.io", "nginx"]);
  assert.deepEqual([miss.status, miss.stdout], [1, "pattern: quay.io\nimage: docker.io/library/nginx\ninput: nginx\nmatch: false\n"]);
  const explain = await runBundle(["explain", "registry.test:5000/team/app", "--config", BASIC, "-o", "json"]);
  assert.equal(explain.status, 0, explain.stderr);
  const registry = JSON.parse(explain.stdout).providers.find((p: { name: string }) => p.name === "registry");
  assert.deepEqual(registry.patterns[0], { pattern: "registry.test", whyNot: "the image has port 5000 and the pattern none; list \"registry.test:5000\" as well" });
  const yaml = await runBundle(["check", "-o", "yaml", "nginx", "--config", BASIC]);
  assert.equal(yaml.status, 0, yaml.stderr);
  const [report] = (require("yaml") as typeof import("yaml")).parse(yaml.stdout);
  assert.deepEqual(report.kubeletWouldTry, [{ key: "docker.io", username: "hubuser" }]);
});

test("the plugin's --provider asks only the named providers, and refuses names the config lacks", async () => {
  const request = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "docker.io/library/nginx" })}\n`;
  const all = await runBundle(["--config", BASIC], { stdin: request });
  assert.deepEqual(Object.keys(JSON.parse(all.stdout).auth), ["docker.io"]);
  const other = await runBundle(["--config", BASIC, "--provider", "registry,legacy"], { stdin: request });
  assert.equal(other.status, 0, other.stderr);
  assert.deepEqual(JSON.parse(other.stdout).auth, {}, "hub is not asked");
  const unknown = await runBundle(["--config", BASIC, "--provider", "hub,nope"], { stdin: request });
  assert.equal(unknown.status, 1);
  assert.match(unknown.human, /^credmux: --provider names "nope", not in .*basic\.json \(the kubelet config is older than the credmux config: run credmux kubelet-config --merge \(or credmux install\) again\)\n$/);
});

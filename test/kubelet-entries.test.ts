// The kubelet's entries and credmux's config agree, and stay agreed: entries name their kind and
// audience, not providers, so a rename or an addition keeps every entry on the nodes right; an
// entry of an older credmux (--provider) keeps working, with a warning; `check --kubelet-config`
// shows what the kubelet would exec; `validate --kubelet-config` names every drift with its fix;
// the README's operator steps work as written. Through the built bundle where the exec matters.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import { audienceEntryName, decodeKubeletConfig, kubeletEntriesFor, type KubeletProvider } from "../src/node/kubelet-config.js";
import { kubeletDrift } from "../src/node/kubelet-drift.js";
import { FIXTURES, REPO_ROOT } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const dockerConfig = path.join(FIXTURES, "dockercfg", "registry.json");
const request = (image: string) => JSON.stringify({ apiVersion: "credentialprovider.kubelet.k8s.io/v1", kind: "CredentialProviderRequest", image });

/** A docker config file with one key. */
function dockerConfigFile(dir: string, name: string, key: string, username: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ auths: { [key]: { username, password: `${username}-secret` } } }));
  return file;
}

test("a provider renamed and one added with the same pattern: the kubelet entry written before keeps asking both", async () => {
  const dir = tempDir();
  const hub = dockerConfigFile(dir, "hub.json", "docker.io", "hubuser");
  const team = dockerConfigFile(dir, "team.json", "registry.test/team", "teamuser");
  const config = writeConfig(dir, { providers: [
    { name: "harbor", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] },
    { name: "dockerhub", type: "dockercfg", matchImages: ["docker.io"], files: [hub] },
  ] });
  const generated = await runBundle(["kubelet-config", "--config", config]);
  assert.equal(generated.status, 0, generated.stderr);
  const kubeletFile = path.join(dir, "kubelet.yaml");
  fs.writeFileSync(kubeletFile, generated.stdout);
  const [entry] = decodeKubeletConfig(generated.stdout, kubeletFile).providers;
  assert.deepEqual(entry!.args, ["--config", config, "--entry", "node"], "the entry names no provider");

  // The operator renames harbor and adds a provider for part of the same registry, by hand.
  writeConfig(dir, { providers: [
    { name: "registry", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] },
    { name: "hub", type: "dockercfg", matchImages: ["docker.io"], files: [hub] },
    { name: "team", type: "dockercfg", matchImages: ["registry.test/team"], files: [team] },
  ] });
  const exec = await runBundle(entry!.args!, { stdin: request("registry.test/team/app") });
  assert.equal(exec.status, 0, exec.stderr);
  const auth = JSON.parse(exec.stdout).auth as Record<string, { username: string }>;
  assert.equal(auth["registry.test"]?.username, "ci-robot", "the renamed provider answers");
  assert.equal(auth["registry.test/team"]?.username, "teamuser", "the added provider is asked");

  const check = await runBundle(["check", "--config", config, "--kubelet-config", kubeletFile, "registry.test/team/app", "docker.io/library/nginx"]);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.ok(check.stdout.includes(`  kubelet entry "credmux" matches "registry.test": execs credmux --config ${config} --entry node\n`), check.stdout);
  assert.match(check.stdout, /team \(dockercfg\): matched "registry\.test\/team", answered 1 key/);
  assert.match(check.stdout, /1\. registry\.test\/team \(username "teamuser"\)\n\s+2\. registry\.test \(username "ci-robot"\)/);
  assert.match(check.stdout, /hub \(dockercfg\): matched "docker\.io", answered 1 key/);

  const validate = await runBundle(["validate", "--config", config, "--kubelet-config", kubeletFile]);
  assert.equal(validate.status, 0, validate.stderr);
});

test("a provider added for a registry the kubelet entry does not list: check and validate say so, with the fix", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "registry", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] }] });
  const kubeletFile = path.join(dir, "kubelet.yaml");
  fs.writeFileSync(kubeletFile, (await runBundle(["kubelet-config", "--config", config])).stdout);
  writeConfig(dir, { providers: [
    { name: "registry", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] },
    { name: "quay", type: "dockercfg", matchImages: ["quay.test"], files: [dockerConfig] },
  ] });
  const check = await runBundle(["check", "--config", config, "--kubelet-config", kubeletFile, "quay.test/app"]);
  assert.equal(check.status, 1, check.stdout);
  assert.equal(check.stdout, [
    "quay.test/app",
    `  kubelet: no entry of ${kubeletFile} matches this image`,
    `  problem: provider "quay" matches "quay.test", but no entry of ${kubeletFile} that execs credmux matches this image, so the kubelet never asks credmux (run credmux validate --kubelet-config ${kubeletFile})`,
    "  result: the kubelet would not get what credmux's config promises for this image (see the problems above)",
    "",
  ].join("\n"));
  const validate = await runBundle(["validate", "--config", config, "--kubelet-config", kubeletFile]);
  assert.equal(validate.status, 1);
  assert.equal(validate.stderr, `credmux: provider "quay": no entry of kubelet config ${kubeletFile} that asks it matches "quay.test", so the kubelet never execs credmux for those images (run credmux kubelet-config --merge ${kubeletFile})\n`);
});

test("an entry of an older credmux (--provider) keeps working as it did, with a warning; a name it lacks still fails the exec", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "registry", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] }] });
  const old = await runBundle(["--config", config, "--provider", "registry"], { stdin: request("registry.test/x") });
  assert.equal(old.status, 0, old.stderr);
  assert.equal(JSON.parse(old.stdout).auth["registry.test"].username, "ci-robot");
  const warnings = old.stderr.trim().split("\n").map((line) => JSON.parse(line) as { level: string; msg: string });
  assert.deepEqual(warnings.map((line) => [line.level, line.msg]), [["warn",
    "this kubelet entry names credmux providers (--provider), so renaming a provider breaks it and a provider added to the config is never asked: run credmux kubelet-config --merge with the kubelet's config file (or credmux install) again, which writes --entry instead"]]);
  const renamed = await runBundle(["--config", config, "--provider", "harbor"], { stdin: request("registry.test/x") });
  assert.equal(renamed.status, 1);
  assert.equal(renamed.stdout, "");
  assert.equal(renamed.stderr.trim().split("\n").at(-1), `credmux: --provider names "harbor", not in ${config} (the kubelet config is older than the credmux config: run credmux kubelet-config --merge (or credmux install) again)`);
});

test("one kubelet entry per service-account audience, its tokenAttributes fitting every provider of it; names stable across renames", async () => {
  const dir = tempDir();
  const sa = (extra: object) => ({ serviceAccountTokenAudience: "registry.test", requireServiceAccount: true, cacheType: "ServiceAccount", ...extra });
  const config = await loadConfig(writeConfig(dir, { providers: [
    { name: "node", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] },
    { name: "a", type: "dockercfg", matchImages: ["a.registry.test"], files: [dockerConfig], tokenAttributes: sa({ requiredServiceAccountAnnotationKeys: ["example.com/team", "example.com/a"] }) },
    { name: "b", type: "dockercfg", matchImages: ["b.registry.test"], files: [dockerConfig], tokenAttributes: sa({ cacheType: "Token", requiredServiceAccountAnnotationKeys: ["example.com/team"], optionalServiceAccountAnnotationKeys: ["example.com/b"] }) },
    { name: "azure", type: "dockercfg", matchImages: ["x.azurecr.io"], files: [dockerConfig], tokenAttributes: sa({ serviceAccountTokenAudience: "api://AzureADTokenExchange" }) },
  ] }));
  const entries = kubeletEntriesFor(config, "/etc/credmux/config.json");
  assert.deepEqual(entries.map((entry) => [entry.name, entry.args, entry.matchImages]), [
    ["credmux", ["--config", "/etc/credmux/config.json", "--entry", "node"], ["registry.test"]],
    ["credmux-registry.test", ["--config", "/etc/credmux/config.json", "--entry", "service-account:registry.test"], ["a.registry.test", "b.registry.test"]],
    ["credmux-api-AzureADTokenExchange-49fa09d4", ["--config", "/etc/credmux/config.json", "--entry", "service-account:api://AzureADTokenExchange"], ["x.azurecr.io"]],
  ]);
  assert.deepEqual(entries[1]!.tokenAttributes, {
    serviceAccountTokenAudience: "registry.test",
    cacheType: "Token", // b's answers are cached per token
    requireServiceAccount: true,
    requiredServiceAccountAnnotationKeys: ["example.com/team"], // what both require; the kubelet calls neither without it
    optionalServiceAccountAnnotationKeys: ["example.com/a", "example.com/b"],
  });
  const names: Array<[audience: string, name: string]> = [
    ["registry.test", "credmux-registry.test"],
    ["sts.amazonaws.com", "credmux-sts.amazonaws.com"],
    ["api://AzureADTokenExchange", "credmux-api-AzureADTokenExchange-49fa09d4"],
    ["..", "credmux-..-5ec1f7e7"],
    ["a b", "credmux-a-b-c8687a08"],
  ];
  for (const [audience, name] of names) assert.equal(audienceEntryName("credmux", audience), name, audience);
});

test("validate --kubelet-config: every drift between the two configs, with its fix", async () => {
  const dir = tempDir();
  const configFile = writeConfig(dir, {
    mirrors: [{ from: "mirror.test", to: "registry.test/mirror" }],
    providers: [
      { name: "registry", type: "dockercfg", matchImages: ["registry.test", "*.registry.test"], files: [dockerConfig] },
      { name: "team", type: "dockercfg", matchImages: ["team.test"], files: [dockerConfig], tokenAttributes: { serviceAccountTokenAudience: "team.test", requireServiceAccount: true, cacheType: "ServiceAccount" } },
    ],
  });
  const config = await loadConfig(configFile);
  const entry = (name: string, args: string[], matchImages: string[], extra: Partial<KubeletProvider> = {}): KubeletProvider =>
    ({ name, matchImages, defaultCacheDuration: "5m", apiVersion: "credentialprovider.kubelet.k8s.io/v1", args: ["--config", configFile, ...args], ...extra });
  const team = { tokenAttributes: { serviceAccountTokenAudience: "team.test", requireServiceAccount: true, cacheType: "ServiceAccount" } };
  const fix = "(run credmux kubelet-config --merge k.yaml)";
  const cases: Array<[what: string, providers: KubeletProvider[], errors: string[]]> = [
    ["what kubelet-config writes", kubeletEntriesFor(config, configFile), []],
    ["no entry runs this config", [entry("credmux", [], ["registry.test"], { args: ["--config", "/elsewhere.json"] })],
      [`kubelet config k.yaml: no entry runs credmux with --config ${configFile}, so the kubelet never asks credmux ${fix}`]],
    ["an old entry naming a renamed provider, and a stale pattern", [entry("credmux", ["--provider", "harbor,registry"], ["registry.test", "*.registry.test", "mirror.test", "old.test"]), entry("credmux-team", ["--provider", "team"], ["team.test"], team)], [
      `kubelet config k.yaml: entry "credmux" names "harbor" with --provider, not in ${configFile}: every exec of this entry fails ${fix}`,
      `kubelet config k.yaml: entry "credmux" matches "old.test", which no provider it asks serves, so those images get no credentials from credmux ${fix}`,
    ]],
    ["an audience no provider has, a provider no entry asks with its token, a pattern and a mirror not covered", [entry("credmux", ["--entry", "node"], ["registry.test"]), entry("credmux-old", ["--entry", "service-account:old.test"], ["team.test"], { tokenAttributes: { ...team.tokenAttributes, serviceAccountTokenAudience: "old.test" } })], [
      `kubelet config k.yaml: entry "credmux-old" runs --entry service-account:old.test, and no provider has that audience: every exec of this entry fails ${fix}`,
      `provider "registry": no entry of kubelet config k.yaml that asks it matches "*.registry.test", so the kubelet never execs credmux for those images ${fix}`,
      `provider "team": no entry of kubelet config k.yaml asks it with a token for audience "team.test", so it never answers ${fix}`,
      `mirror from "mirror.test": no entry of kubelet config k.yaml that asks the providers of registry.test/mirror matches it, so the kubelet never execs credmux for those images ${fix}`,
      `kubelet config k.yaml: entry "credmux-old" matches "team.test", which no provider it asks serves, so those images get no credentials from credmux ${fix}`,
    ]],
  ];
  for (const [what, providers, errors] of cases) assert.deepEqual(kubeletDrift(config, providers, "k.yaml", dir), errors, what);
});

test("validate checks the files and programs the exec needs, relative ones resolved and shown; --no-files skips that", async () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, "secrets"));
  fs.copyFileSync(dockerConfig, path.join(dir, "secrets", "docker.json"));
  const notExecutable = path.join(dir, "plugin");
  fs.writeFileSync(notExecutable, "#!/bin/sh\n", { mode: 0o644 });
  const config = writeConfig(dir, { providers: [
    { name: "present", type: "dockercfg", matchImages: ["a.test"], files: ["secrets/docker.json"] },
    { name: "missing", type: "dockercfg", matchImages: ["b.test"], files: ["secrets/docker.json", "secrets/gone.json"] },
    { name: "token", type: "token", matchImages: ["c.test"], username: "robot", secretFile: "/nonexistent/credmux/token" },
    { name: "helper", type: "credential-helper", matchImages: ["d.test"], helper: "credmux-test-none" },
    { name: "plugin", type: "kubelet-plugin", matchImages: ["e.test"], command: "./plugin" },
  ] });
  const hint = "(the exec runs as the kubelet's user: create the file or fix its mode, or validate on another machine with --no-files)";
  const run = await runBundle(["validate", "--config", config], { env: { PATH: "/nonexistent/bin" } });
  assert.equal(run.status, 1, run.stdout);
  assert.equal(run.stdout, "");
  assert.deepEqual(run.stderr.trim().split("\n"), [
    `credmux: config ${config}: providers[1].files[1] (provider "missing"): ${path.join(dir, "secrets/gone.json")} (written "secrets/gone.json"): no such file ${hint}`,
    `credmux: config ${config}: providers[2].secretFile (provider "token"): /nonexistent/credmux/token: no such file ${hint}`,
    `credmux: config ${config}: providers[3].helper (provider "helper"): docker-credential-credmux-test-none: not found on the PATH (/nonexistent/bin) as a program this user can run ${hint}`,
    `credmux: config ${config}: providers[4].command (provider "plugin"): ${notExecutable} (written "./plugin"): not executable by this user ${hint}`,
  ]);
  const elsewhere = await runBundle(["validate", "--config", config, "--no-files"]);
  assert.equal(elsewhere.status, 0, elsewhere.stderr);
  assert.ok(elsewhere.stdout.includes(`  present (dockercfg): a.test\n      reads ${path.join(dir, "secrets/docker.json")} (written "secrets/docker.json")\n`), elsewhere.stdout);
  assert.ok(elsewhere.stdout.includes("      runs docker-credential-credmux-test-none from the PATH\n"), elsewhere.stdout);
  assert.match(elsewhere.stdout, /files: not checked \(--no-files\)/);
});

test("install refuses a relative path that would name another file once the config is copied", async () => {
  const work = tempDir();
  const root = path.join(work, "root");
  const config = writeConfig(work, { providers: [{ name: "harbor", type: "dockercfg", matchImages: ["harbor.test"], files: ["harbor.json"] }], log: { file: "credmux.log" } }, "source.json");
  fs.copyFileSync(dockerConfig, path.join(work, "harbor.json"));
  const run = await runBundle(["install", "--profile", "kubeadm", "--root", root, "--config", config]);
  assert.equal(run.status, 1, run.stdout);
  assert.equal(run.stderr, `credmux: config ${config}: providers[0].files[0] (provider "harbor") is the relative path "harbor.json", which the copy in /etc/credmux would resolve to /etc/credmux/harbor.json, not ${path.join(work, "harbor.json")}; log.file is the relative path "credmux.log", which the copy in /etc/credmux would resolve to /etc/credmux/credmux.log, not ${path.join(work, "credmux.log")} (write the path the file has on the node, as an absolute path)\n`);
  assert.ok(!fs.existsSync(root), "nothing written");
});

/** The first ```sh block of a README section, its lines without the indentation. */
function shellBlock(readme: string, section: string): string[] {
  const body = readme.slice(readme.indexOf(`## ${section}`));
  const block = /```sh\n([\s\S]*?)```/.exec(body)![1]!;
  return block.split("\n").map((line) => line.trim()).filter(Boolean);
}

test("the README's operator steps, literally, in a temporary root: copy, validate, kubelet-config, check", async () => {
  const root = tempDir();
  const onNode = (token: string) => (/^\/(etc|var)\//.test(token) ? path.join(root, token) : token);
  const lines = shellBlock(fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8"), "How the kubelet uses it");
  assert.ok(lines.some((line) => line.startsWith("credmux check ")), "the steps end with check");
  for (const line of lines) {
    const words = line.split(/\s+/);
    const redirect = words.indexOf(">");
    const out = redirect < 0 ? undefined : onNode(words[redirect + 1]!);
    const [command, ...args] = (redirect < 0 ? words : words.slice(0, redirect)).map(onNode);
    if (command === "mkdir" && args[0] === "-p") for (const dir of args.slice(1)) fs.mkdirSync(dir, { recursive: true });
    else if (command === "cp" && args[0] === "-r") fs.cpSync(path.join(REPO_ROOT, args[1]!), args[2]!, { recursive: true });
    else if (command === "cp") fs.copyFileSync(path.join(REPO_ROOT, args[0]!), args[1]!);
    else if (command === "credmux") {
      const run = await runBundle(args, { cwd: REPO_ROOT });
      assert.equal(run.status, 0, `${line}\n${run.stdout}${run.stderr}`);
      if (out) fs.writeFileSync(out, run.stdout);
      if (args[0] === "check") assert.match(run.stdout, /kubelet entry "credmux" matches "harbor\.example\.com"[\s\S]*the kubelet would try[\s\S]*kubelet entry "credmux" matches "docker\.io"[\s\S]*the kubelet would try/);
    } else assert.fail(`the README's steps use a command this test does not run: ${line}`);
  }
});

test("the README's Config block, written to /etc/credmux with the file it names, passes validate and check", async () => {
  const root = tempDir();
  const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const block = /## Config\n\n```yaml\n([\s\S]*?)```/.exec(readme)![1]!;
  const etc = path.join(root, "etc", "credmux");
  fs.mkdirSync(etc, { recursive: true });
  const text = block.replaceAll("/etc/credmux/", `${etc}/`).replaceAll("/var/lib/credmux", path.join(root, "var", "lib", "credmux"));
  const named = [...text.matchAll(/files: \["([^"]+)"\]/g)].map((match) => match[1]!);
  assert.deepEqual(named, [path.join(etc, "harbor-config.json")]);
  fs.copyFileSync(path.join(REPO_ROOT, "config", "example", "harbor-docker-config.json"), named[0]!);
  const config = path.join(etc, "config.yaml");
  fs.writeFileSync(config, text);
  const validate = await runBundle(["validate", "--config", config]);
  assert.equal(validate.status, 0, validate.stderr);
  const kubeletFile = path.join(root, "kubelet.yaml");
  fs.writeFileSync(kubeletFile, (await runBundle(["kubelet-config", "--config", config])).stdout);
  const check = await runBundle(["check", "--config", config, "--kubelet-config", kubeletFile, "harbor.example.com/team-a/app"]);
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /harbor \(dockercfg\): matched "harbor\.example\.com", answered 2 keys/);
});

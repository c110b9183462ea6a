// The kubelet's side of credmux: `credmux kubelet-config` (and --merge) through the built bundle,
// and the kubelet's own decoding and validation rules that every output must pass, proven first
// against the kubelet's test table (kubelet-config-validation-cases.json, copied unchanged).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import {
  aggregateKubeletErrors, decodeKubeletConfig, goDurationString, loadKubeletConfig, readKubeletConfigPath, validateKubeletProviders,
  type KubeletProvider,
} from "../src/node/kubelet-config.js";
import { FIXTURES, REPO_ROOT } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

interface ValidateCase {
  name: string;
  providers: KubeletProvider[];
  featureGateKubeletServiceAccountTokenForCredentialProviders: boolean;
  expectError: string;
}
interface ReadCase {
  name: string;
  expectErrorContains: string;
}
const cases = JSON.parse(fs.readFileSync(path.join(FIXTURES, "kubelet-config-validation-cases.json"), "utf8")) as { validate: ValidateCase[]; read: ReadCase[] };

/** What the kubelet does with a config at start; every output of credmux must pass it. */
function assertKubeletAccepts(text: string, what: string): KubeletProvider[] {
  const providers = decodeKubeletConfig(text, what).providers;
  const withGate = validateKubeletProviders(providers, { serviceAccountTokenGate: true });
  assert.deepEqual(withGate, [], `${what}: the kubelet (1.34+) would reject it: ${aggregateKubeletErrors(withGate)}`);
  if (!providers.some((provider) => provider.tokenAttributes)) {
    assert.deepEqual(validateKubeletProviders(providers, { serviceAccountTokenGate: false }), [], `${what}: rejected without the service-account gate`);
  }
  return providers;
}

for (const c of cases.validate) {
  test(`kubelet validation: ${c.name}`, () => {
    const errors = validateKubeletProviders(c.providers, { serviceAccountTokenGate: c.featureGateKubeletServiceAccountTokenForCredentialProviders });
    assert.equal(errors.length === 0 ? "" : aggregateKubeletErrors(errors), c.expectError);
  });
}

// The read cases name their inputs; these build them.
const v1 = "kubelet.config.k8s.io/v1";
const provider = (name: string, extra: Record<string, unknown> = {}) => ({
  name, matchImages: ["registry.io"], defaultCacheDuration: "10m", apiVersion: "credentialprovider.kubelet.k8s.io/v1", ...extra,
});
const doc = (providers: object[], apiVersion = v1, kind = "CredentialProviderConfig") => ({ apiVersion, kind, providers });
const tokenAttributes = { serviceAccountTokenAudience: "aud", cacheType: "Token", requireServiceAccount: true };
type Files = Record<string, string | object>;
const READ_INPUTS: Record<string, Array<{ dir: boolean; files: Files }>> = {
  "empty directory with no JSON or YAML files": [{ dir: true, files: {} }],
  "directory with unsupported file extensions (config.txt, config.md)": [{ dir: true, files: { "config.txt": doc([provider("a")]), "config.md": doc([provider("b")]) } }],
  "config with wrong Kind (kind: WrongKind, apiVersion kubelet.config.k8s.io/v1alpha1)": [{ dir: false, files: { "c.yaml": doc([provider("a")], "kubelet.config.k8s.io/v1alpha1", "WrongKind") } }],
  "config with wrong apiversion (foobar/v1alpha1)": [{ dir: false, files: { "c.yaml": doc([provider("a")], "foobar/v1alpha1") } }],
  "config with invalid typo (unknownField inside a provider, kubelet.config.k8s.io/v1)": [{ dir: false, files: { "c.yaml": doc([provider("a", { unknownField: "x" })]) } }],
  "v1alpha1 config with token attributes should fail": [{ dir: false, files: { "c.yaml": doc([provider("a", { tokenAttributes })], "kubelet.config.k8s.io/v1alpha1") } }],
  "v1beta1 config with token attributes should fail": [{ dir: false, files: { "c.json": doc([provider("a", { tokenAttributes })], "kubelet.config.k8s.io/v1beta1") } }],
  "directory with duplicate provider names": [{ dir: true, files: { "a.yaml": doc([provider("duplicate")]), "b.json": doc([provider("duplicate")]) } }],
  "directory with one invalid config file (second file kind: WrongKind, kubelet.config.k8s.io/v1)": [{ dir: true, files: { "a.yaml": doc([provider("a")]), "b.yaml": doc([provider("b")], v1, "WrongKind") } }],
  "valid: 1 plugin YAML, 1 plugin JSON, wildcard path 'registry.io/*', multiple matchers, multiple providers in v1alpha1/v1beta1/v1, directory with mixed v1beta1+v1 YAML and v1 JSON files, directory with .yaml/.txt/.json (the .txt is skipped)": [
    { dir: false, files: { "c.yaml": doc([provider("a")]) } },
    { dir: false, files: { "c.json": doc([provider("a")]) } },
    { dir: false, files: { "c.yaml": doc([provider("a", { matchImages: ["registry.io/*"] })]) } },
    { dir: false, files: { "c.yaml": doc([provider("a", { matchImages: ["registry.io", "*.registry.io", "registry.io:8080/path"] })]) } },
    ...["v1alpha1", "v1beta1", "v1"].map((version) => ({ dir: false, files: { "c.yaml": doc([provider("a"), provider("b")], `kubelet.config.k8s.io/${version}`) } })),
    { dir: true, files: { "a.yaml": doc([provider("a")], "kubelet.config.k8s.io/v1beta1"), "b.yaml": doc([provider("b", { tokenAttributes })]), "c.json": doc([provider("c")]) } },
    { dir: true, files: { "a.yaml": doc([provider("a")]), "b.txt": "not a config", "c.json": doc([provider("c")]) } },
  ],
};

function materialise(input: { dir: boolean; files: Files }): string {
  const dir = tempDir("credmux-kubelet-read-");
  for (const [name, content] of Object.entries(input.files)) {
    const text = typeof content === "string" ? content : name.endsWith(".json") ? JSON.stringify(content) : toYaml(content);
    fs.writeFileSync(path.join(dir, name), text);
  }
  return input.dir ? dir : path.join(dir, Object.keys(input.files)[0]!);
}

function toYaml(value: object): string {
  return (require("yaml") as typeof import("yaml")).stringify(value);
}

for (const c of cases.read) {
  test(`kubelet config reading: ${c.name}`, () => {
    const inputs = READ_INPUTS[c.name];
    assert.ok(inputs, `no input built for the read case ${JSON.stringify(c.name)}`);
    for (const input of inputs) {
      const configPath = materialise(input);
      if (c.expectErrorContains === "") {
        assert.ok(loadKubeletConfig(configPath, { serviceAccountTokenGate: true }).length > 0);
      } else {
        assert.throws(() => readKubeletConfigPath(configPath), (error: Error) => error.message.includes(c.expectErrorContains), `expected an error containing ${JSON.stringify(c.expectErrorContains)}`);
      }
    }
  });
}

test("Go's Duration.String, which the kubelet prints in its messages", () => {
  const table: Array<[number, string]> = [
    [0, "0s"], [-60_000, "-1m0s"], [300_000, "5m0s"], [5_400_000, "1h30m0s"], [1500, "1.5s"], [250, "250ms"],
    [0.0015, "1.5µs"], [0.000001, "1ns"], [90_061_000, "25h1m1s"], [-0.5, "-500µs"],
  ];
  for (const [ms, text] of table) assert.equal(goDurationString(ms), text, `${ms} ms`);
});

test("errors aggregate as Go's utilerrors does: one alone, several deduplicated in brackets", () => {
  assert.equal(aggregateKubeletErrors(["a"]), "a");
  assert.equal(aggregateKubeletErrors(["a", "b", "a"]), "[a, b]");
  assert.equal(aggregateKubeletErrors(["a", "a"]), "a");
});

test("a wrongly typed field is a decoding error the kubelet would stop on", () => {
  assert.throws(() => decodeKubeletConfig(JSON.stringify(doc([provider("a", { matchImages: "registry.io" })])), "k.json"),
    /error decoding config "k\.json": json: cannot unmarshal string into Go struct field CredentialProvider\.providers\.matchImages of type \[\]string/);
  assert.throws(() => decodeKubeletConfig(JSON.stringify(doc([provider("a", { defaultCacheDuration: "ten minutes" })])), "k.json"), /time: invalid duration "ten minutes"/);
  assert.throws(() => decodeKubeletConfig("apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nkind: CredentialProviderConfig\nproviders: []\n", "k.yaml"),
    /line 3: key "kind" already set in map/);
});

// ---- credmux kubelet-config, through the bundle

const dockerConfig = path.join(FIXTURES, "dockercfg", "registry.json");
const serviceAccount = { serviceAccountTokenAudience: "registry.test", cacheType: "ServiceAccount", requireServiceAccount: true, requiredServiceAccountAnnotationKeys: ["example.com/team"] };

function serviceAccountConfig(dir: string, extra: object = {}): string {
  return writeConfig(dir, {
    defaults: { cacheDuration: "90s" },
    mirrors: [{ from: "docker.io", to: "registry.test/hub" }, { from: "quay.io", to: "team.test/quay" }],
    providers: [
      { name: "registry", type: "dockercfg", matchImages: ["registry.test", "*.registry.test"], files: [dockerConfig] },
      { name: "team", type: "dockercfg", matchImages: ["team.test"], files: [dockerConfig], tokenAttributes: serviceAccount },
      { name: "other", type: "dockercfg", matchImages: ["registry.test", "other.test:5000"], files: [dockerConfig] },
    ],
    ...extra,
  });
}

const expectedEntries = (config: string): KubeletProvider[] => [
  {
    name: "credmux",
    matchImages: ["registry.test", "*.registry.test", "other.test:5000", "docker.io"],
    defaultCacheDuration: "1m30s",
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    // The main entry's exec asks the providers outside service-account mode, named by none.
    args: ["--config", config, "--entry", "node"],
    env: [{ name: "NODE_OPTIONS", value: "" }],
  },
  {
    name: "credmux-registry.test",
    // The mirror whose target the service-account provider serves goes to its entry, token and all.
    matchImages: ["team.test", "quay.io"],
    defaultCacheDuration: "1m30s",
    apiVersion: "credentialprovider.kubelet.k8s.io/v1",
    args: ["--config", config, "--entry", "service-account:registry.test"],
    env: [{ name: "NODE_OPTIONS", value: "" }],
    tokenAttributes: serviceAccount,
  },
];

test("kubelet-config: every pattern and mirror source, one entry per service-account audience, in YAML and JSON", async () => {
  const dir = tempDir();
  const config = serviceAccountConfig(dir);
  const yaml = await runBundle(["kubelet-config", "--config", config]);
  assert.equal(yaml.status, 0, yaml.stderr);
  assert.match(yaml.stdout, /^# The kubelet's --image-credential-provider-config for the credmux config /);
  const fromYaml = assertKubeletAccepts(yaml.stdout, "kubelet-config (yaml)");
  assert.deepEqual(fromYaml, expectedEntries(config));
  const json = await runBundle(["kubelet-config", "--config", config, "-o", "json"]);
  assert.equal(json.status, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers: expectedEntries(config) });
  assertKubeletAccepts(json.stdout, "kubelet-config (json)");
});

test("kubelet-config: a config without service-account providers needs no feature gate; example.yaml matches its committed kubelet config", async () => {
  const example = path.join(REPO_ROOT, "config", "example.yaml");
  const run = await runBundle(["kubelet-config", "--config", example]);
  assert.equal(run.status, 0, run.stderr);
  const [entry] = assertKubeletAccepts(run.stdout, "kubelet-config example.yaml");
  const committed = decodeKubeletConfig(fs.readFileSync(path.join(REPO_ROOT, "config", "kubelet-credential-provider-config.yaml"), "utf8"), "committed").providers[0]!;
  assert.deepEqual(entry!.matchImages, committed.matchImages, "config/kubelet-credential-provider-config.yaml lists every pattern of config/example.yaml");
});

test("kubelet-config --merge keeps every other provider and its comments, replaces credmux's entries in place, drops stale ones", async () => {
  const dir = tempDir();
  const config = serviceAccountConfig(dir);
  const existing = path.join(dir, "kubelet.yaml");
  fs.writeFileSync(existing, [
    "# the node image's config",
    "apiVersion: kubelet.config.k8s.io/v1beta1",
    "kind: CredentialProviderConfig",
    "providers:",
    "  # the cloud's own plugin",
    "  - name: ecr-credential-provider",
    "    matchImages: [\"*.dkr.ecr.*.amazonaws.com\"]",
    "    defaultCacheDuration: 12h",
    "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
    "  - name: credmux",
    "    matchImages: [old.test]",
    "    defaultCacheDuration: 5m",
    "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
    "    args: [--config, /old/path.yaml]",
    "  - name: credmux-gone",
    "    matchImages: [gone.test]",
    "    defaultCacheDuration: 5m",
    "    apiVersion: credentialprovider.kubelet.k8s.io/v1",
    `    args: [--config, ${JSON.stringify(config)}]`,
    "  - name: vendor",
    "    matchImages: [vendor.test]",
    "    defaultCacheDuration: 1m",
    "    apiVersion: credentialprovider.kubelet.k8s.io/v1beta1",
    "    args: [get-credentials]",
    "",
  ].join("\n"));
  const run = await runBundle(["kubelet-config", "--config", config, "--merge", existing]);
  assert.equal(run.status, 0, run.stderr);
  const providers = assertKubeletAccepts(run.stdout, "merged yaml");
  assert.deepEqual(providers.map((p) => p.name), ["ecr-credential-provider", "credmux", "credmux-registry.test", "vendor"]);
  assert.deepEqual(providers.slice(1, 3), expectedEntries(config));
  assert.deepEqual(providers[3], { name: "vendor", matchImages: ["vendor.test"], defaultCacheDuration: "1m", apiVersion: "credentialprovider.kubelet.k8s.io/v1beta1", args: ["get-credentials"] });
  assert.match(run.stdout, /^# the node image's config\n/);
  assert.match(run.stdout, /# the cloud's own plugin\n  - name: ecr-credential-provider/);
  assert.match(run.stdout, /^apiVersion: kubelet.config.k8s.io\/v1$/m, "tokenAttributes needs the v1 config file");
  assert.equal(fs.readFileSync(existing, "utf8").includes("credmux-gone"), true, "--merge prints; the file is not changed");

  // Merging into the merged output changes nothing: what install relies on to leave a node alone.
  const again = path.join(dir, "again.yaml");
  fs.writeFileSync(again, run.stdout);
  const second = await runBundle(["kubelet-config", "--config", config, "--merge", again]);
  assert.equal(second.status, 0, second.stderr);
  assert.equal(second.stdout, run.stdout);
});

test("kubelet-config --merge into JSON (the EKS file) answers JSON, or YAML when asked", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "registry", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] }] });
  const existing = path.join(dir, "eks-config.json");
  fs.writeFileSync(existing, JSON.stringify(doc([{ name: "ecr-credential-provider", matchImages: ["*.dkr.ecr.*.amazonaws.com"], defaultCacheDuration: "12h", apiVersion: "credentialprovider.kubelet.k8s.io/v1" }]), null, 2));
  const run = await runBundle(["kubelet-config", "--config", config, "--merge", existing]);
  assert.equal(run.status, 0, run.stderr);
  const merged = JSON.parse(run.stdout) as { providers: KubeletProvider[] };
  assert.deepEqual(merged.providers.map((p) => p.name), ["ecr-credential-provider", "credmux"]);
  assertKubeletAccepts(run.stdout, "merged json");
  const asYaml = await runBundle(["kubelet-config", "--config", config, "--merge", existing, "--format", "yaml"]);
  assert.equal(asYaml.status, 0, asYaml.stderr);
  assert.deepEqual(assertKubeletAccepts(asYaml.stdout, "merged json as yaml"), merged.providers);
});

test("kubelet-config refuses what the kubelet would refuse, with the kubelet's words, and prints nothing", async () => {
  const dir = tempDir();
  const config = serviceAccountConfig(dir);
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };
  const table: Array<[string, string[], RegExp]> = [
    ["an unknown field in the existing file", ["--merge", write("typo.json", doc([provider("vendor", { unknownField: 1 })]))], /error decoding config ".*typo\.json": strict decoding error: unknown field "providers\[0\]\.unknownField"/],
    ["another provider the kubelet rejects", ["--merge", write("bad.json", doc([provider("bad name")]))],
      /failed to validate credential provider config: providers\.name: Invalid value: "bad name": provider name cannot contain spaces/],
    ["someone else's entry under credmux's service-account name", ["--merge", write("taken.json", doc([provider("credmux-registry.test", { args: ["--other"] })]))], /already has a provider named "credmux-registry\.test" that is not credmux's/],
    ["a wrong kind", ["--merge", write("kind.yaml", "apiVersion: kubelet.config.k8s.io/v1\nkind: KubeletConfiguration\n")], /no kind "KubeletConfiguration" is registered for version "kubelet\.config\.k8s\.io\/v1"/],
    ["a missing file", ["--merge", path.join(dir, "missing.yaml")], /kubelet config .*missing\.yaml: cannot read it \(ENOENT\)/],
    ["an unknown format", ["--format", "toml"], /-o must be yaml or json, found "toml"/],
    ["an unknown format", ["-o", "table"], /-o must be yaml or json, found "table"/],
  ];
  for (const [what, args, message] of table) {
    const run = await runBundle(["kubelet-config", "--config", config, ...args]);
    // A wrong invocation is a usage error (2); a kubelet config it cannot use is a failure (1).
    assert.equal(run.status, what === "an unknown format" ? 2 : 1, `${what}: ${run.stdout}`);
    assert.equal(run.stdout, "", what);
    assert.match(run.stderr, message, what);
    assert.equal(run.stderr.trim().split("\n").length, 1, `${what}: one line`);
  }
});

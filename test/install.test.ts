// `credmux install` through the built bundle, into a temporary root, for every profile: the files
// land at the platform's paths (install-profiles.ts, ecosystem.md A.2) with their modes, an existing
// kubelet config keeps its other providers, a second run touches nothing, --dry-run writes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { INSTALL_PROFILES, PROFILE_NAMES } from "../src/node/install-profiles.js";
import { loadKubeletConfig, type KubeletProvider } from "../src/node/kubelet-config.js";
import { BUNDLE, FIXTURES } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const dockerConfig = path.join(FIXTURES, "dockercfg", "registry.json");
const serviceAccount = { serviceAccountTokenAudience: "team.test", cacheType: "Token", requireServiceAccount: true };

function credmuxConfig(dir: string, providers?: object[]): string {
  return writeConfig(dir, {
    providers: providers ?? [
      { name: "registry", type: "dockercfg", matchImages: ["registry.test"], files: [dockerConfig] },
      { name: "team", type: "dockercfg", matchImages: ["team.test"], files: [dockerConfig], tokenAttributes: serviceAccount },
    ],
  }, "source-config.json");
}

/** The node's own provider, which every install must keep. */
const VENDOR: KubeletProvider = { name: "vendor-provider", matchImages: ["*.vendor.test"], defaultCacheDuration: "12h", apiVersion: "credentialprovider.kubelet.k8s.io/v1", args: ["get-credentials"] };

function seedKubeletConfig(root: string, at: string): void {
  const file = path.join(root, at);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const document = { apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers: [VENDOR] };
  fs.writeFileSync(file, at.endsWith(".json") ? JSON.stringify(document, null, 2) : `# the platform's own\n${(require("yaml") as typeof import("yaml")).stringify(document)}`, { mode: 0o644 });
}

/** Every path under root with its type, mode, inode, mtime and content hash: what "changes nothing" compares. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name);
    const stat = fs.lstatSync(file);
    const body = stat.isSymbolicLink() ? `-> ${fs.readlinkSync(file)}` : stat.isFile() ? crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex") : "dir";
    out[path.relative(root, file)] = `${(stat.mode & 0o7777).toString(8)} ${stat.ino} ${stat.mtimeMs} ${body}`;
  }
  return out;
}

const mode = (file: string) => (fs.statSync(file).mode & 0o7777).toString(8);

for (const name of PROFILE_NAMES) {
  test(`install --profile ${name}: the platform's paths and modes, other providers kept, idempotent, --dry-run writes nothing`, async () => {
    const profile = INSTALL_PROFILES[name];
    const work = tempDir();
    const root = path.join(work, "root");
    const config = credmuxConfig(work);
    seedKubeletConfig(root, profile.kubeletConfig);
    const seeded = snapshot(root);

    const dry = await runBundle(["install", "--profile", name, "--root", root, "--config", config, "--dry-run"]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /dry run, nothing changed/);
    assert.match(dry.stdout, /would write/);
    assert.deepEqual(snapshot(root), seeded, "--dry-run changed nothing");

    const first = await runBundle(["install", "--profile", name, "--root", root, "--config", config]);
    assert.equal(first.status, 0, first.stderr);
    const binary = path.join(root, profile.binDir, "credmux");
    assert.equal(mode(binary), "755");
    assert.ok(fs.readFileSync(binary).equals(fs.readFileSync(BUNDLE)), "the running executable, byte for byte");
    const installedConfig = path.join(root, profile.credmuxConfigDir, "config.json");
    assert.equal(mode(installedConfig), "600");
    assert.equal(fs.readFileSync(installedConfig, "utf8"), `${JSON.stringify(JSON.parse(fs.readFileSync(config, "utf8")), null, 2)}\n`);
    const kubeletConfig = path.join(root, profile.kubeletConfig);
    assert.equal(mode(kubeletConfig), "600");
    assert.equal(fs.readlinkSync(path.join(root, profile.binDir, "credmux-team.test")), "credmux", "the service-account entry's name runs the same executable");

    let providers: KubeletProvider[] = [];
    assert.doesNotThrow(() => { providers = loadKubeletConfig(kubeletConfig, { serviceAccountTokenGate: true }); }, "the kubelet starts with it");
    assert.deepEqual(providers.map((p) => p.name), ["vendor-provider", "credmux", "credmux-team.test"]);
    assert.deepEqual(providers[0], VENDOR, "the platform's provider is kept as it was");
    const configAt = path.posix.join(profile.credmuxConfigDir, "config.json");
    assert.deepEqual(providers[1]!.args, ["--config", configAt, "--entry", "node"], "the kubelet passes the config's path on the node, not under --root");
    assert.deepEqual(providers[2]!.args, ["--config", configAt, "--entry", "service-account:team.test"], "the audience's entry asks only the providers of that audience");
    assert.deepEqual(providers[1]!.matchImages, ["registry.test"]);
    assert.deepEqual(providers[2]!.tokenAttributes, serviceAccount);
    if (name === "eks") assert.match(fs.readFileSync(kubeletConfig, "utf8"), /^\{\n  "apiVersion"/, "EKS's config.json stays JSON");
    else assert.match(fs.readFileSync(kubeletConfig, "utf8"), /^# the platform's own\n/, "YAML keeps its comments");
    if (profile.flagsSetBy) assert.match(first.stdout, new RegExp(`kubelet flags: set by ${profile.flagsSetBy.replace(/[()]/g, ".")}`));
    else assert.ok(first.stdout.includes(`--image-credential-provider-config=${profile.kubeletConfig} --image-credential-provider-bin-dir=${profile.binDir}`), first.stdout);
    assert.match(first.stdout, /the kubelet reads its credential provider config only when it starts/);

    const installed = snapshot(root);
    const second = await runBundle(["install", "--profile", name, "--root", root, "--config", config]);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(snapshot(root), installed, "a second run changes nothing: same inodes, mtimes, modes and bytes");
    assert.doesNotMatch(second.stdout, /written|linked|mode set|removed/);
    assert.match(second.stdout, /no kubelet restart needed/);
  });
}

test("install: a changed config rewrites only what changed; a dropped service-account provider loses its entry and its link", async () => {
  const work = tempDir();
  const root = path.join(work, "root");
  const profile = INSTALL_PROFILES.k3s;
  const config = credmuxConfig(work);
  assert.equal((await runBundle(["install", "--profile", "k3s", "--root", root, "--config", config])).status, 0);
  const binary = path.join(root, profile.binDir, "credmux");
  const binaryBefore = fs.statSync(binary);

  credmuxConfig(work, [{ name: "registry", type: "dockercfg", matchImages: ["registry.test", "other.test"], files: [dockerConfig] }]);
  const dry = await runBundle(["install", "--profile", "k3s", "--root", root, "--config", config, "--dry-run"]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /would remove\s+\/var\/lib\/rancher\/credentialprovider\/bin\/credmux-team\.test/);
  assert.ok(fs.existsSync(path.join(root, profile.binDir, "credmux-team.test")), "--dry-run removed nothing");

  const run = await runBundle(["install", "--profile", "k3s", "--root", root, "--config", config]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /unchanged\s+\/var\/lib\/rancher\/credentialprovider\/bin\/credmux /);
  assert.equal(fs.statSync(binary).ino, binaryBefore.ino, "the executable, unchanged, was not rewritten");
  assert.ok(!fs.existsSync(path.join(root, profile.binDir, "credmux-team.test")), "the stale link is gone");
  const providers = loadKubeletConfig(path.join(root, profile.kubeletConfig), { serviceAccountTokenGate: false });
  assert.deepEqual(providers.map((p) => [p.name, p.matchImages]), [["credmux", ["registry.test", "other.test"]]]);
});

test("install: right bytes with a wrong mode get the mode fixed, and nothing else", async () => {
  const work = tempDir();
  const root = path.join(work, "root");
  const config = credmuxConfig(work);
  assert.equal((await runBundle(["install", "--profile", "kubeadm", "--root", root, "--config", config])).status, 0);
  const installedConfig = path.join(root, "etc", "credmux", "config.json");
  fs.chmodSync(installedConfig, 0o644);
  const inode = fs.statSync(installedConfig).ino;
  const run = await runBundle(["install", "--profile", "kubeadm", "--root", root, "--config", config]);
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /mode set\s+\/etc\/credmux\/config\.json/);
  assert.equal(mode(installedConfig), "600");
  assert.equal(fs.statSync(installedConfig).ino, inode);
});

test("install --profile custom takes its paths from CREDMUX_INSTALL_*", async () => {
  const work = tempDir();
  const root = path.join(work, "root");
  const config = credmuxConfig(work);
  const env = { CREDMUX_INSTALL_BIN_DIR: "/opt/credmux/bin", CREDMUX_INSTALL_KUBELET_CONFIG: "/opt/credmux/kubelet.json", CREDMUX_INSTALL_CONFIG_DIR: "/opt/credmux/etc" };
  const run = await runBundle(["install", "--profile", "custom", "--root", root, "--config", config], { env });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(mode(path.join(root, "opt/credmux/bin/credmux")), "755");
  assert.equal(mode(path.join(root, "opt/credmux/etc/config.json")), "600");
  const text = fs.readFileSync(path.join(root, "opt/credmux/kubelet.json"), "utf8");
  assert.match(text, /^\{/, "a new .json kubelet config is JSON");
  const providers = loadKubeletConfig(path.join(root, "opt/credmux/kubelet.json"), { serviceAccountTokenGate: true });
  assert.deepEqual(providers[0]!.args, ["--config", "/opt/credmux/etc/config.json", "--entry", "node"]);
  assert.ok(run.stdout.includes("--image-credential-provider-config=/opt/credmux/kubelet.json --image-credential-provider-bin-dir=/opt/credmux/bin"), run.stdout);
});

test("install into a kubelet config directory (kubelet 1.34+) writes credmux's own file beside the others", async () => {
  const work = tempDir();
  const root = path.join(work, "root");
  const config = credmuxConfig(work);
  const dir = path.join(root, "etc", "kubernetes", "image-credential-provider-config.yaml");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "10-vendor.json"), JSON.stringify({ apiVersion: "kubelet.config.k8s.io/v1", kind: "CredentialProviderConfig", providers: [VENDOR] }));
  const run = await runBundle(["install", "--profile", "kubeadm", "--root", root, "--config", config]);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(mode(path.join(dir, "credmux.yaml")), "600");
  assert.deepEqual(loadKubeletConfig(dir, { serviceAccountTokenGate: true }).map((p) => p.name), ["vendor-provider", "credmux", "credmux-team.test"]);
  const again = await runBundle(["install", "--profile", "kubeadm", "--root", root, "--config", config]);
  assert.match(again.stdout, /unchanged\s+\/etc\/kubernetes\/image-credential-provider-config\.yaml\/credmux\.yaml/);
});

test("install refuses, writing nothing, what would stop the kubelet or clobber someone else's file", async () => {
  const work = tempDir();
  const config = credmuxConfig(work);
  const cases: Array<[string, (root: string) => void, string[], RegExp]> = [
    ["an existing kubelet config the kubelet already rejects", (root) => {
      fs.mkdirSync(path.join(root, "var/lib/kubelet"), { recursive: true });
      fs.writeFileSync(path.join(root, "var/lib/kubelet/credential-provider-config.yaml"), "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n  - name: a/b\n    matchImages: [x.test]\n    defaultCacheDuration: 1m\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n");
    }, ["--profile", "aks"], /failed to validate credential provider config: providers\.name: Invalid value: "a\/b": provider name cannot contain '\/'/],
    ["a file in the way of a service-account link", (root) => {
      fs.mkdirSync(path.join(root, "home/kubernetes/bin"), { recursive: true });
      fs.writeFileSync(path.join(root, "home/kubernetes/bin/credmux-team.test"), "someone's binary");
    }, ["--profile", "gke"], /credmux-team\.test: exists and is not a symlink credmux made/],
    ["an unknown profile", () => undefined, ["--profile", "talos"], /unknown profile "talos", expected one of eks, k3s, rke2, kubeadm, aks, gke, kops, custom/],
    ["no profile", () => undefined, [], /install needs --profile/],
  ];
  for (const [what, seed, args, message] of cases) {
    const root = path.join(tempDir(), "root");
    fs.mkdirSync(root);
    seed(root);
    const before = snapshot(root);
    const run = await runBundle(["install", ...args, "--root", root, "--config", config]);
    // A wrong invocation is a usage error (2); a node that refuses the install is a failure (1).
    assert.equal(run.status, /profile/.test(what) ? 2 : 1, `${what}: ${run.stdout}`);
    assert.match(run.stderr, message, what);
    assert.deepEqual(snapshot(root), before, `${what}: nothing written`);
  }
});

test("the profiles hold the paths of ecosystem.md A.2", () => {
  const table: Array<[string, string, string]> = [
    ["eks", "/etc/eks/image-credential-provider", "/etc/eks/image-credential-provider/config.json"],
    ["k3s", "/var/lib/rancher/credentialprovider/bin", "/var/lib/rancher/credentialprovider/config.yaml"],
    ["rke2", "/var/lib/rancher/credentialprovider/bin", "/var/lib/rancher/credentialprovider/config.yaml"],
    ["aks", "/var/lib/kubelet/credential-provider", "/var/lib/kubelet/credential-provider-config.yaml"],
    ["gke", "/home/kubernetes/bin", "/etc/srv/kubernetes/cri_auth_config.yaml"],
    ["kops", "/usr/local/bin", "/var/lib/kubelet/credential-provider.conf"],
  ];
  for (const [name, binDir, kubeletConfig] of table) {
    const profile = INSTALL_PROFILES[name as keyof typeof INSTALL_PROFILES];
    assert.deepEqual([profile.binDir, profile.kubeletConfig], [binDir, kubeletConfig], name);
  }
  for (const profile of Object.values(INSTALL_PROFILES)) assert.ok(profile.flagsSetBy || profile.flagsWhere, `${profile.name}: says who sets the kubelet flags`);
});

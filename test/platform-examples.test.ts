// The worked examples in config/platforms/<profile>/: each credmux config validates, and its
// kubelet config is what `credmux install --profile <profile>` leaves on the node (the platform's
// own providers kept) and passes the kubelet's rules. A config naming a provider type that
// providers/registry.ts does not have fails (it used to be skipped, before every provider existed). Also
// config/daemonset.yaml: its config validates and its mounts cover the profile's paths.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { builtinProviders } from "../providers/registry.js";
import { installProfile, PROFILE_NAMES, type InstallProfile } from "../src/node/install-profiles.js";
import { isCredmuxEntry, loadKubeletConfig } from "../src/node/kubelet-config.js";
import { REPO_ROOT } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir } from "./helpers/temp.js";

const YAML = require("yaml") as typeof import("yaml");
const PLATFORMS = path.join(REPO_ROOT, "config", "platforms");

/** The provider types a config names that are neither built in nor "module". */
function missingTypes(configText: string): string[] {
  const document = YAML.parse(configText) as { providers?: Array<{ type?: string }> };
  const types = [...new Set((document.providers ?? []).map((provider) => provider.type ?? ""))];
  return types.filter((type) => type !== "module" && !Object.hasOwn(builtinProviders, type));
}

/** The providers each platform's node image ships in its kubelet config, which the examples keep. */
const PLATFORM_PROVIDERS: Record<string, string[]> = {
  eks: ["ecr-credential-provider"], aks: ["acr-credential-provider"], gke: ["auth-provider-gcp"], kops: ["ecr-credential-provider"],
};

const platforms = fs.readdirSync(PLATFORMS).filter((entry) => fs.statSync(path.join(PLATFORMS, entry)).isDirectory()).sort();

test("there is a worked example for every install profile but custom (whose paths are the operator's)", () => {
  for (const wanted of PROFILE_NAMES.filter((name) => name !== "custom")) assert.ok(platforms.includes(wanted), `config/platforms/${wanted}`);
});

for (const platform of platforms) {
  test(`config/platforms/${platform}: a valid credmux config, and the kubelet config install leaves`, async () => {
    const profile = installProfile(platform, {});
    assert.ok(profile, `config/platforms/${platform} is named after an install profile`);
    const dir = path.join(PLATFORMS, platform);
    const configFile = path.join(dir, "config.yaml");
    const kubeletFile = ["kubelet-config.json", "kubelet-config.yaml"].map((name) => path.join(dir, name)).find((file) => fs.existsSync(file));
    assert.ok(kubeletFile, `config/platforms/${platform} has kubelet-config.json or kubelet-config.yaml`);
    assert.equal(path.extname(kubeletFile), path.extname(profile.kubeletConfig) === ".json" ? ".json" : ".yaml", "in the format of the platform's file");
    // Whatever the providers, the kubelet must start with it.
    const kubeletProviders = loadKubeletConfig(kubeletFile, { serviceAccountTokenGate: true });

    const configText = fs.readFileSync(configFile, "utf8");
    // Every provider exists now: an example naming an unknown type is a broken example, not a skip.
    assert.deepEqual(missingTypes(configText), [], `config/platforms/${platform}/config.yaml names provider types that are not in providers/registry.ts`);
    // The files it names are the node's (mounted secrets): this machine is "another machine".
    const validated = await runBundle(["validate", "--no-files", "--config", configFile]);
    assert.equal(validated.status, 0, validated.stderr);
    // Installing onto a node whose kubelet config is the committed one must leave it byte for byte.
    const root = path.join(tempDir(), "root");
    const onNode = path.join(root, profile.kubeletConfig);
    fs.mkdirSync(path.dirname(onNode), { recursive: true });
    fs.copyFileSync(kubeletFile, onNode);
    // git checks files out 0644; a node's kubelet config that credmux installed is 0600 (install.test.ts covers the mode).
    fs.chmodSync(onNode, 0o600);
    const installed = await runBundle(["install", "--profile", platform, "--root", root, "--config", configFile]);
    assert.equal(installed.status, 0, installed.stderr);
    assert.equal(fs.readFileSync(onNode, "utf8"), fs.readFileSync(kubeletFile, "utf8"), `the committed kubelet config is what install leaves:\n${installed.stdout}`);
    assert.match(installed.stdout, new RegExp(`unchanged\\s+${profile.kubeletConfig.replace(/[.]/g, "\\.")} `));
    const configArg = path.posix.join(profile.credmuxConfigDir, "config.json");
    const credmuxEntries = kubeletProviders.filter((entry) => isCredmuxEntry(entry, configArg));
    assert.ok(credmuxEntries.length > 0, "it has credmux's entries");
    assert.deepEqual(kubeletProviders.filter((entry) => !isCredmuxEntry(entry, configArg)).map((entry) => entry.name), PLATFORM_PROVIDERS[platform] ?? [], "the platform's own providers are kept");
    for (const entry of credmuxEntries.filter((entry) => entry.tokenAttributes)) {
      assert.match(entry.name!, /^credmux-/, "service-account entries are credmux-NAME");
      assert.equal(fs.readlinkSync(path.join(root, profile.binDir, entry.name!)), "credmux", "install links their names to the executable");
    }
  });
}

/** Whether a host path is inside one of the DaemonSet's hostPath mounts, at the same path under /host. */
function mounted(hostPaths: Map<string, string>, at: string): boolean {
  for (const [mountPath, hostPath] of hostPaths) {
    if (mountPath !== `/host${hostPath}`) continue;
    if (at === hostPath || at.startsWith(`${hostPath}/`)) return true;
  }
  return false;
}

test("config/daemonset.yaml: installs with credmux install from an init container, its config validates, its mounts cover the profile's paths", async () => {
  const documents = YAML.parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, "config", "daemonset.yaml"), "utf8")).map((doc) => {
    assert.deepEqual(doc.errors, []);
    return doc.toJS() as { kind: string; data?: Record<string, string>; spec?: any };
  });
  const daemonSet = documents.find((doc) => doc.kind === "DaemonSet")?.spec;
  assert.ok(daemonSet, "a DaemonSet");
  const pod = daemonSet.template.spec;
  const install = (pod.initContainers as any[]).find((container) => container.command?.includes("install"));
  assert.ok(install, "an init container runs credmux install");
  const command = [...install.command as string[], ...(install.args as string[] | undefined ?? [])];
  const flag = (name: string) => command[command.indexOf(name) + 1]!;
  assert.equal(flag("--root"), "/host");
  const profile = installProfile(flag("--profile"), {}) as InstallProfile;
  assert.ok(profile, `--profile ${flag("--profile")} is a profile`);

  const volumes = new Map((pod.volumes as any[]).map((volume) => [volume.name as string, volume]));
  const hostMounts = new Map<string, string>();
  for (const mount of install.volumeMounts as any[]) {
    const hostPath = volumes.get(mount.name)?.hostPath?.path;
    if (hostPath) hostMounts.set(mount.mountPath, hostPath);
  }
  for (const at of [profile.binDir, path.posix.dirname(profile.kubeletConfig), profile.credmuxConfigDir]) {
    assert.ok(mounted(hostMounts, at), `${at} is mounted from the host at /host${at}`);
  }

  // The config the init container installs: from the ConfigMap mounted at --config's directory.
  const configFlag = flag("--config");
  const configMount = (install.volumeMounts as any[]).find((mount) => configFlag.startsWith(`${mount.mountPath}/`));
  const configMapName = volumes.get(configMount.name)?.configMap?.name;
  const configMap = documents.find((doc) => doc.kind === "ConfigMap" && (doc as any).metadata.name === configMapName);
  const configText = configMap?.data?.[path.posix.basename(configFlag)];
  assert.ok(configText, `the ConfigMap ${configMapName} holds ${path.posix.basename(configFlag)}`);
  const file = path.join(tempDir(), "config.yaml");
  fs.writeFileSync(file, configText);
  const validated = await runBundle(["validate", "--no-files", "--config", file]);
  assert.equal(validated.status, 0, validated.stderr);
  // Every file the config names on the node is one the secret-copying init container puts there.
  const others = (pod.initContainers as any[]).filter((container) => container !== install);
  const copied = others.map((container) => (container.command as string[]).join(" ")).join("\n");
  const otherMounts = new Map<string, string>(others.flatMap((container) => container.volumeMounts as any[])
    .filter((mount) => volumes.get(mount.name)?.hostPath).map((mount) => [mount.mountPath, volumes.get(mount.name).hostPath.path]));
  for (const provider of (YAML.parse(configText) as { providers: Array<{ files?: string[] }> }).providers) {
    for (const named of provider.files ?? []) {
      const [, dir, name] = /^(.*)\/([^/]+)$/.exec(named)!;
      assert.ok(copied.includes(`dir=/host${dir}`) && copied.includes(`"$dir/${name}"`), `${named} is copied onto the node before install`);
      assert.ok(mounted(otherMounts, dir!), `${dir} is on a host mount of the copying container`);
    }
  }
});

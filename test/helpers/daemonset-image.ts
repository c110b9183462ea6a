// The DaemonSet's image (build/image.ts, npm run build:image), end to end: built from the single
// executable without a container daemon, copied by skopeo into a real registry (Debian's
// docker-registry on 127.0.0.1) and back out, its layer unpacked, and its entrypoint run in that
// root file system (chroot, as the container runtime would) with the DaemonSet's own arguments,
// config and mounts: credmux must then be installed in the host root, and run from there.
// Run by test/sea.test.ts after it has built the single executable (two files building it at once
// would race on dist/); needs root for chroot, and skopeo, docker-registry and htpasswd, else it is
// skipped, saying which is missing.
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { REGISTRY_PACKAGES, REGISTRY_TOOLS, skopeo, startRegistry } from "./registry.js";
import { REPO_ROOT } from "./paths.js";
import { skipUnlessTools } from "./required-tools.js";
import { tempDir } from "./temp.js";

const YAML = require("yaml") as typeof import("yaml");
const SEA = path.join(REPO_ROOT, "dist", "credmux-linux-x64");
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

/** Why the image test cannot run here, or undefined. */
function unavailable(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return "the image holds the linux-x64 executable";
  const tools = skipUnlessTools([...REGISTRY_TOOLS, "chroot", "readelf"], `${REGISTRY_PACKAGES} binutils`);
  if (tools) return tools;
  if (process.getuid?.() !== 0) return "running the image's entrypoint needs chroot, which needs root";
  return undefined;
}

/** A blob of an OCI image layout, by digest. */
function blob(layout: string, digest: string): Buffer {
  return fs.readFileSync(path.join(layout, "blobs", "sha256", digest.replace(/^sha256:/, "")));
}

/** The DaemonSet's installing container, its ConfigMap's config, and the secret-copying container's target. */
function daemonSetInstall() {
  const documents = YAML.parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, "config", "daemonset.yaml"), "utf8")).map((doc) => doc.toJS());
  const pod = documents.find((doc) => doc.kind === "DaemonSet").spec.template.spec;
  const install = (pod.initContainers as any[]).find((container) => container.name === "install");
  const configMap = documents.find((doc) => doc.kind === "ConfigMap");
  return { install, config: configMap.data["config.yaml"] as string };
}

/** npm run build:image's image through a registry and back, and its entrypoint run as the DaemonSet runs it (the SEA built). */
export async function daemonSetImageRoundTrip(t: TestContext): Promise<void> {
  const why = unavailable();
  if (why) {
    t.skip(why);
    return;
  }
  const dir = tempDir("credmux-image-");
  const layout = path.join(dir, "image");
  const built = spawnSync(process.execPath, [path.join(REPO_ROOT, "build.mjs"), "--image", "--executable", SEA, "--out", layout], { encoding: "utf8", timeout: 180_000 });
  assert.equal(built.status, 0, built.stderr);
  assert.match(built.stderr, new RegExp(`credmux:${VERSION.replaceAll(".", "\\.")}`));

  // The docker-archive is the same image: the same config.
  const inspectConfig = (source: string) => {
    const run = spawnSync("skopeo", ["inspect", "--config", source], { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH!, HOME: dir } });
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout);
  };
  assert.deepEqual(inspectConfig(`docker-archive:${layout}.tar`), inspectConfig(`oci:${layout}:${VERSION}`));

  const registry = await startRegistry(path.join(dir, "registry"), { pusher: "push-password" });
  const reference = `docker://${registry.host}/credmux:${VERSION}`;
  const pushed = await skopeo(registry, ["--insecure-policy", "copy", "--dest-creds", "pusher:push-password", "--dest-tls-verify=false", `oci:${layout}:${VERSION}`, reference], 120_000);
  assert.equal(pushed.status, 0, `${pushed.stderr}\n${registry.log()}`);
  const pulledLayout = path.join(dir, "pulled");
  const pulled = await skopeo(registry, ["--insecure-policy", "copy", "--src-creds", "pusher:push-password", "--src-tls-verify=false", reference, `oci:${pulledLayout}:${VERSION}`], 120_000);
  assert.equal(pulled.status, 0, `${pulled.stderr}\n${registry.log()}`);

  const index = JSON.parse(fs.readFileSync(path.join(pulledLayout, "index.json"), "utf8"));
  const manifest = JSON.parse(blob(pulledLayout, index.manifests[0].digest).toString());
  const config = JSON.parse(blob(pulledLayout, manifest.config.digest).toString());
  assert.equal(config.architecture, "amd64");
  assert.equal(manifest.layers.length, 1, "one layer: the executable and its libraries, FROM scratch");

  // The root file system as the runtime unpacks it, with the DaemonSet's mounts in place.
  const rootfs = path.join(dir, "rootfs");
  fs.mkdirSync(rootfs);
  fs.writeFileSync(path.join(dir, "layer.tar.gz"), blob(pulledLayout, manifest.layers[0].digest));
  execFileSync("tar", ["-xzf", path.join(dir, "layer.tar.gz"), "-C", rootfs], { timeout: 60_000 });
  assert.deepEqual(fs.readdirSync(rootfs).sort(), ["credmux", "host", "lib", "lib64", "tmp"], "no shell, no package manager");
  const { install, config: configText } = daemonSetInstall();
  assert.deepEqual((install.command as string[]).slice(0, config.config.Entrypoint.length), config.config.Entrypoint, "the DaemonSet runs the image's entrypoint");
  assert.equal(install.image.replace(/^.*\//, ""), `credmux:${VERSION}`, "the DaemonSet names the image this build makes");
  const command = [...install.command as string[], ...(install.args as string[] | undefined ?? [])];
  const configFlag = command[command.indexOf("--config") + 1]!;
  fs.mkdirSync(path.join(rootfs, path.dirname(configFlag)), { recursive: true });
  fs.writeFileSync(path.join(rootfs, configFlag), configText);
  // What the copy-secrets init container leaves on the host before install runs.
  const secret = path.join(rootfs, "host", "etc", "credmux", "secrets", "harbor", "config.json");
  fs.mkdirSync(path.dirname(secret), { recursive: true });
  fs.writeFileSync(secret, JSON.stringify({ auths: { "harbor.example.com": { auth: Buffer.from("robot:secret").toString("base64") } } }), { mode: 0o600 });

  // A container's environment: PATH and nothing of this process's.
  const ran = spawnSync("chroot", [rootfs, ...command], { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH } });
  assert.equal(ran.status, 0, `${ran.stdout}\n${ran.stderr}`);
  const profile = command[command.indexOf("--profile") + 1]!;
  assert.equal(profile, "eks");
  const installed = path.join(rootfs, "host", "etc", "eks", "image-credential-provider", "credmux");
  assert.ok(fs.readFileSync(installed).equals(fs.readFileSync(SEA)), "the single executable is installed in the host's bin dir");
  assert.equal(fs.statSync(installed).mode & 0o777, 0o755);
  const kubeletConfig = JSON.parse(fs.readFileSync(path.join(rootfs, "host", "etc", "eks", "image-credential-provider", "config.json"), "utf8"));
  assert.ok(kubeletConfig.providers.some((entry: { name: string }) => entry.name === "credmux"), "the kubelet config has credmux's entry");
  assert.ok(fs.existsSync(path.join(rootfs, "host", "etc", "credmux", "config.json")), "the config is installed as JSON");
  // And the installed executable runs on the host.
  const version = spawnSync(installed, ["version"], { encoding: "utf8", timeout: 60_000 });
  assert.equal(version.status, 0, version.stderr);
  assert.match(version.stdout, new RegExp(`^credmux ${VERSION.replaceAll(".", "\\.")}`));
}

// A real registry for end-to-end tests: Debian's docker-registry (distribution 2.8) on 127.0.0.1 at
// a free port, with htpasswd (bcrypt) users, from a config file the test writes (never the
// package's own, which listens on every interface); a one-layer image the test makes itself as an
// OCI layout and pushes with skopeo; skopeo again to prove that credentials work. Everything runs
// under a temporary HOME and is stopped, by process id, when the test file finishes.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import zlib from "node:zlib";
import { after } from "node:test";
import { runProgram, type ProgramRun } from "./run-program.js";

/** The Debian packages behind the programs these helpers run. */
export const REGISTRY_TOOLS = ["docker-registry", "skopeo", "htpasswd"] as const;
export const REGISTRY_PACKAGES = "docker-registry skopeo apache2-utils";

/** A running registry: where it listens, how to run its clients, how to stop it. */
export interface TestRegistry {
  /** 127.0.0.1:PORT, the registry part of an image name and of an auth key. */
  host: string;
  /** An environment for skopeo: PATH, and a HOME of the test's own, so no real auth file is read. */
  env: Record<string, string>;
  /** The registry's own log, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** How a client command ended. */
export type CommandResult = ProgramRun;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** GET /v2/ once; the status, or undefined while nothing listens. */
function probe(host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = http.get(`http://${host}/v2/`, { timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(undefined));
    req.on("timeout", () => req.destroy());
  });
}

/** Starts docker-registry with htpasswd auth for `users` in dir; resolves once /v2/ answers 401. */
export async function startRegistry(dir: string, users: Readonly<Record<string, string>>): Promise<TestRegistry> {
  fs.mkdirSync(path.join(dir, "data"), { recursive: true });
  fs.mkdirSync(path.join(dir, "home"), { recursive: true });
  const htpasswd = Object.entries(users)
    .map(([user, password]) => execFileSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8", timeout: 20_000 }).trim())
    .join("\n");
  fs.writeFileSync(path.join(dir, "htpasswd"), `${htpasswd}\n`, { mode: 0o600 });
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: path.join(dir, "home") };
  // A port picked free may be taken before the registry binds it: try a few.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const host = `127.0.0.1:${await freePort()}`;
    const configFile = path.join(dir, "config.yml");
    fs.writeFileSync(configFile, [
      "version: 0.1",
      "log: { level: warn, accesslog: { disabled: true } }",
      `storage: { filesystem: { rootdirectory: ${JSON.stringify(path.join(dir, "data"))} } }`,
      `http: { addr: "${host}", secret: "${crypto.randomBytes(16).toString("hex")}" }`,
      `auth: { htpasswd: { realm: credmux-test, path: ${JSON.stringify(path.join(dir, "htpasswd"))} } }`,
      "",
    ].join("\n"));
    const logFile = path.join(dir, "registry.log");
    const logFd = fs.openSync(logFile, "w");
    const child: ChildProcess = spawn("docker-registry", ["serve", configFile], { env, stdio: ["ignore", logFd, logFd] });
    fs.closeSync(logFd);
    let exited = false;
    const exitedPromise = new Promise<void>((resolve) => child.on("exit", () => { exited = true; resolve(); }));
    const stop = async () => {
      if (exited) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exitedPromise;
      clearTimeout(timer);
    };
    after(stop);
    const log = () => fs.readFileSync(logFile, "utf8");
    // Generous: on a loaded machine the registry may take many seconds to listen.
    const deadline = Date.now() + 60_000;
    let status: number | undefined;
    while (!exited && Date.now() < deadline) {
      status = await probe(host);
      if (status !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (status === 401) return { host, env, log, stop };
    await stop();
    if (status !== undefined || attempt === 3) throw new Error(`docker-registry on ${host}: /v2/ answered ${status ?? "nothing"}, expected 401 (auth required); its log: ${log()}`);
  }
  throw new Error("unreachable");
}

function sha256(data: Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

/** Writes a one-layer OCI image layout (tag `latest`) into dir; returns the manifest's digest. */
export function makeOciLayout(dir: string, text = "hello from credmux\n"): string {
  const work = path.join(dir, "layer-src");
  fs.mkdirSync(work, { recursive: true });
  fs.writeFileSync(path.join(work, "hello.txt"), text);
  const tar = execFileSync("tar", ["--sort=name", "--mtime=2020-01-01 00:00Z", "--owner=0", "--group=0", "--numeric-owner", "-cf", "-", "-C", work, "hello.txt"], { timeout: 20_000 });
  const layer = zlib.gzipSync(tar);
  const blobs = path.join(dir, "blobs", "sha256");
  fs.mkdirSync(blobs, { recursive: true });
  const blob = (data: Buffer) => {
    const hex = sha256(data);
    fs.writeFileSync(path.join(blobs, hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const config = Buffer.from(JSON.stringify({
    architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [`sha256:${sha256(tar)}`] },
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...blob(config) },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...blob(layer) }],
  }));
  const manifestBlob = blob(manifest);
  fs.writeFileSync(path.join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  fs.writeFileSync(path.join(dir, "index.json"), JSON.stringify({
    schemaVersion: 2,
    manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...manifestBlob, annotations: { "org.opencontainers.image.ref.name": "latest" } }],
  }));
  return manifestBlob.digest;
}

/** Runs skopeo with the registry's environment; never throws for a non-zero exit. */
export function skopeo(registry: TestRegistry, args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
  return runProgram("skopeo", args, { env: registry.env, timeoutMs });
}

/** Pushes the OCI layout at layoutDir to the registry as `repository:latest` with a user's password. */
export async function pushImage(registry: TestRegistry, layoutDir: string, repository: string, user: string, password: string): Promise<void> {
  const run = await skopeo(registry, ["--insecure-policy", "copy", "--dest-creds", `${user}:${password}`, "--dest-tls-verify=false",
    `oci:${layoutDir}:latest`, `docker://${registry.host}/${repository}:latest`]);
  if (run.status !== 0) throw new Error(`skopeo copy to ${registry.host}/${repository} failed: ${run.stderr}; registry log: ${registry.log()}`);
}

/** An auth file as a container runtime reads it, from a kubelet response's auth map: {"auths": {key: {"auth": base64(user:password)}}}. */
export function authFileFromResponse(auth: Readonly<Record<string, { username: string; password: string }>>, file: string): string {
  const auths: Record<string, { auth: string }> = {};
  for (const [key, entry] of Object.entries(auth)) auths[key] = { auth: Buffer.from(`${entry.username}:${entry.password}`).toString("base64") };
  fs.writeFileSync(file, JSON.stringify({ auths }), { mode: 0o600 });
  return file;
}

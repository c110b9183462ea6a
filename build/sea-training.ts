// The single executable's code caches (src/startup/code-cache.ts), made by running the bundle with the
// same Node as the executable, the way the kubelet runs it, over a cache directory of its own.
// The runs are the paths nodes take most: a dockercfg answer and an operator's provider module
// (the main code, and the dockercfg chunk), and an ECR request whose endpoint refuses (onFailure:
// empty, so that the run answers and keeps its caches: the ecr chunk and the SDK chunk it imports).
// Whatever deferred modules the runs compile get a code cache, by the name of their section.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { MAIN_SECTION } from "../src/startup/bundle-format.js";

/**
 * Trains in `work` with `node` on `bundle`; returns the code cache files by asset name
 * ("code-cache:NAME", for each of `sections` the runs compiled). A last round proves that V8
 * accepts them all: it would rewrite a cache it refused.
 */
export function trainCodeCaches(node: string, bundle: string, sections: readonly string[], work: string): Record<string, string> {
  const dir = path.join(work, "train");
  const cacheDir = path.join(dir, "cache");
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };
  const docker = write("docker.json", { auths: { "registry.train.test": { auth: Buffer.from("train:train-password").toString("base64") } } });
  const tokenModule = write("token-provider.cjs", `module.exports = { type: "train", create: () => async (request) => ({ auth: { [request.registry]: { username: "train", password: "train-token" } }, expiresAt: new Date(Date.now() + 3600e3) }) };`);
  const config = (name: string, providers: unknown[], extra: object = {}) => write(`config-${name}.json`, { apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: cacheDir }, providers, ...extra });
  const registry = config("registry", [
    { name: "registry", type: "dockercfg", matchImages: ["registry.train.test"], files: [docker] },
    { name: "tokens", type: "module", module: tokenModule, matchImages: ["*.train.test"] },
  ]);
  const ecr = config("ecr", [{ name: "ecr", type: "ecr" }], { onFailure: "empty", defaults: { timeout: "3s" } });
  const ecrEnv = { AWS_ACCESS_KEY_ID: "AKIDTRAINING", AWS_SECRET_ACCESS_KEY: "training", AWS_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL_ECR: "http://127.0.0.1:9" };
  const plugin = (configFile: string, image: string, env: Record<string, string> = {}) => {
    const request = JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image });
    const result = spawnSync(node, [bundle, "--config", configFile], { input: request, encoding: "utf8", env: { PATH: process.env.PATH, HOME: dir, ...env }, timeout: 60_000 });
    if (result.status !== 0) throw new Error(`sea: training run for ${image} exited with ${result.status}: ${result.stderr.trim()}`);
  };
  const caches = () => fs.readdirSync(cacheDir).filter((name) => name.startsWith("code-") && name.endsWith(".v8"));
  const registryImage = "registry.train.test/app";
  const ecrImage = "111122223333.dkr.ecr.us-east-1.amazonaws.com/app";
  // Each config twice: the first run validates and notes it, and keeps no code cache, since the
  // runs after it skip validating (src/startup/config-snapshot.ts); the second keeps those of the code it ran.
  plugin(registry, registryImage);
  plugin(registry, registryImage);
  plugin(ecr, ecrImage, ecrEnv);
  plugin(ecr, ecrImage, ecrEnv);
  const made = new Map(caches().map((name) => [name, fs.statSync(path.join(cacheDir, name)).mtimeMs]));
  plugin(registry, registryImage);
  plugin(ecr, ecrImage, ecrEnv);
  for (const [name, mtime] of made) {
    if (fs.statSync(path.join(cacheDir, name)).mtimeMs !== mtime) throw new Error(`sea: V8 refused the code cache ${name} it had just made`);
  }
  // File names hold the section name with each character other than [\w.-] as "-" (code-ID-NAME-vVERSION-ARCH.v8).
  const assets: Record<string, string> = {};
  for (const name of [MAIN_SECTION, ...sections]) {
    const file = caches().find((candidate) => candidate.includes(`-${name.replace(/[^\w.-]/g, "-")}-v`));
    if (file) assets[`code-cache:${name}`] = path.join(cacheDir, file);
  }
  if (!assets[`code-cache:${MAIN_SECTION}`]) throw new Error("sea: the training runs made no code cache of the main code");
  return assets;
}

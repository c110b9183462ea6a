// V8 code caches of the bundle (src/startup/boot.ts, src/startup/code-cache.ts): made by the kubelet-plugin run
// that found none, used by the next, trusted only under the credential cache's own rule (a 0600
// file of ours in a 0700 directory of ours, no symlink), and never a reason for a run to fail or
// to answer differently.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { codeCacheData, codeCacheFile, wrapCommonJs } from "../src/startup/code-cache.js";
import { readMainSection, readSections } from "../src/startup/bundle-format.js";
import { BUNDLE } from "./helpers/paths.js";
import { runBundle, type BundleRun } from "./helpers/run-bundle.js";
import { startAwsServer } from "./helpers/aws-server.js";
import { tempDir, trustedTempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const request = (image: string) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image })}\n`;
const PASSWORD = "code-cache-password-7f3a";

/** A dockercfg provider for registry.cc.test (cache.dir as given: the code cache's only home). */
function setup(cache: { dir: string } | undefined, name = "config.json") {
  const dir = tempDir();
  const docker = path.join(dir, "docker.json");
  fs.writeFileSync(docker, JSON.stringify({ auths: { "registry.cc.test": { auth: Buffer.from(`cc:${PASSWORD}`).toString("base64") } } }));
  const cacheDir = path.join(dir, "cache");
  const config = writeConfig(dir, {
    cache: cache ?? { dir: cacheDir },
    providers: [{ name: "registry", type: "dockercfg", matchImages: ["registry.cc.test"], files: [docker] }],
  }, name);
  return { dir, cacheDir, config };
}

async function plugin(config: string, args: string[] = []): Promise<BundleRun> {
  return runBundle(["--config", config, ...args], { stdin: request("registry.cc.test/team/app") });
}

/**
 * Runs the plugin until it has written its code caches: the first run validates the config and
 * notes it (src/startup/config-snapshot.ts), and keeps no code cache, since the next runs skip validating;
 * the second writes them.
 */
async function warm(config: string): Promise<void> {
  answered(await plugin(config));
  answered(await plugin(config));
}

function answered(run: BundleRun) {
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stderr, "", "an answer with nothing to warn about leaves stderr empty");
  const response = JSON.parse(run.stdout) as { auth: Record<string, { password: string }> };
  assert.equal(response.auth["registry.cc.test"]?.password, PASSWORD);
  return response;
}

/** A code cache file as boot.ts reads it: header (magic, length) right, two equal copies, and V8 accepts the data for the bundle's main code. */
function assertUsable(file: string): void {
  const bytes = fs.readFileSync(file);
  const length = bytes.readUInt32LE(4);
  assert.equal(bytes.readUInt32LE(0), 0x32786d63, "magic");
  assert.equal(bytes.length, 8 + 2 * length, "length");
  const data = bytes.subarray(8, 8 + length);
  assert.ok(data.equals(bytes.subarray(8 + length)), "two equal copies");
  const script = new vm.Script(wrapCommonJs(readMainSection(BUNDLE)!), { filename: BUNDLE, cachedData: data });
  assert.equal(script.cachedDataRejected, false, "V8 accepts it");
}

const codeCachesAndSources = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith("code-")).sort() : []);
const codeCaches = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith("code-") && name.endsWith(".v8")).sort() : []);
const mainCache = (dir: string) => codeCaches(dir).find((name) => name.includes("-main-"));

test("a plugin run writes the main code's code cache (0600, in a 0700 directory it makes), which V8 accepts and the next run uses as it is", async () => {
  const s = setup(undefined);
  answered(await plugin(s.config));
  assert.equal(mainCache(s.cacheDir), undefined, "the run that validated the config keeps no code cache: it ran code the next runs skip");
  answered(await plugin(s.config));
  const name = mainCache(s.cacheDir);
  assert.ok(name, `no code cache of the main code in ${codeCaches(s.cacheDir)}`);
  assert.match(name, new RegExp(`^code-[0-9a-f]{16}-main-${process.version.replace(/\./g, "\\.")}-${process.arch}\\.v8$`));
  assert.equal(fs.statSync(s.cacheDir).mode & 0o777, 0o700);
  const file = path.join(s.cacheDir, name);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  // The checks boot.ts and V8 make when the bundle compiles its main code.
  assertUsable(file);
  const before = fs.statSync(file);
  answered(await plugin(s.config));
  const after = fs.statSync(file);
  assert.deepEqual([after.ino, after.mtimeMs], [before.ino, before.mtimeMs], "an accepted cache is not written again");
  assert.equal(fs.readdirSync(s.cacheDir).some((entry) => entry.endsWith(".tmp")), false);
  // No secret in it: the code cache is code, not data of the run.
  assert.equal(fs.readFileSync(file).includes(PASSWORD), false);
});

test("no code cache without a cache directory (cache.dir \"\"), from a YAML config, from other commands, or from a run that failed", async () => {
  const none = setup({ dir: "" });
  answered(await plugin(none.config));
  assert.deepEqual(codeCaches(none.dir), []);

  const yaml = setup(undefined);
  const yamlConfig = path.join(yaml.dir, "config.yaml");
  fs.writeFileSync(yamlConfig, `apiVersion: credmux/v1alpha1\nkind: Config\ncache: { dir: ${JSON.stringify(yaml.cacheDir)} }\nproviders: ${JSON.stringify(JSON.parse(fs.readFileSync(yaml.config, "utf8")).providers)}\n`);
  answered(await plugin(yamlConfig));
  assert.deepEqual(codeCaches(yaml.cacheDir), []);

  const other = setup(undefined);
  const check = await runBundle(["check", "--config", other.config, "registry.cc.test/team/app"]);
  assert.equal(check.status, 0, check.stderr);
  const validate = await runBundle(["validate", "--config", other.config]);
  assert.equal(validate.status, 0, validate.stderr);
  assert.deepEqual(codeCaches(other.cacheDir), []);

  const failing = setup(undefined);
  const run = await runBundle(["--config", failing.config], { stdin: "{not json" });
  assert.equal(run.status, 1);
  assert.deepEqual(codeCaches(failing.cacheDir), []);
});

test("a code cache that is not trustworthy is never read: world-readable, another's directory mode, a symlink; a valid one there is replaced, not used", async () => {
  const s = setup(undefined);
  await warm(s.config);
  const name = mainCache(s.cacheDir)!;
  const file = path.join(s.cacheDir, name);
  const valid = fs.readFileSync(file);

  // World-readable: were it read, V8 would accept it and it would stay as it is.
  fs.chmodSync(file, 0o644);
  const planted = fs.statSync(file).ino;
  answered(await plugin(s.config));
  assert.notEqual(fs.statSync(file).ino, planted, "the untrusted file was replaced");
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);

  // A symlink to a valid cache: not followed, replaced by a file of ours; its target untouched.
  const target = path.join(s.dir, "elsewhere.v8");
  fs.writeFileSync(target, valid, { mode: 0o600 });
  fs.rmSync(file);
  fs.symlinkSync(target, file);
  answered(await plugin(s.config));
  assert.equal(fs.lstatSync(file).isSymbolicLink(), false);
  assert.deepEqual(fs.readFileSync(target), valid);

  // A directory open to others: nothing is read from it or written into it.
  const open = setup(undefined);
  fs.mkdirSync(open.cacheDir, { mode: 0o755 });
  fs.chmodSync(open.cacheDir, 0o755);
  answered(await plugin(open.config));
  assert.deepEqual(codeCaches(open.cacheDir), []);
});

test("the code caches are named for a hash of the main code and every deferred module, so that a build changing only a deferred module never runs its old code", async () => {
  // V8 checks a cache against the source's length only: a provider changed to the same length
  // under an unchanged main code would run its old code, if the name held the main code alone.
  const bundle = fs.readFileSync(BUNDLE, "latin1");
  const main = readMainSection(BUNDLE)!;
  const index = /\n\/\/@credmux-sections ([^\n]*)\n$/.exec(bundle)![1]!.split(" ");
  const names = index.filter((_, i) => i % 3 === 0 && index[i] !== "main");
  assert.ok(names.length >= 8, `deferred sections: ${names}`);
  const texts = readSections(BUNDLE, names)!;
  const hash = crypto.createHash("sha256").update(main).update("\0");
  for (const name of names) hash.update(name).update("\0").update(texts.get(name)!).update("\0");
  const s = setup(undefined);
  await warm(s.config);
  assert.equal(mainCache(s.cacheDir), `code-${hash.digest("hex").slice(0, 16)}-main-${process.version}-${process.arch}.v8`);
});

test("the bundle's index gives every section's bytes: the main code and each deferred module's line", () => {
  const bundle = fs.readFileSync(BUNDLE, "latin1");
  const index = /\n\/\/@credmux-sections ([^\n]*)\n$/.exec(bundle)![1]!.split(" ");
  for (let i = 0; i < index.length; i += 3) {
    const [name, offset, length] = [index[i]!, Number(index[i + 1]), Number(index[i + 2])];
    const text = readSections(BUNDLE, [name])!.get(name)!.toString("latin1");
    assert.equal(text, bundle.slice(offset, offset + length), name);
    if (name === "main") assert.ok(bundle.slice(0, offset).endsWith("\n/*@credmux-main\n") && bundle.startsWith("\n*/", offset + length), "main: the block comment's body");
    else assert.ok(bundle.slice(0, offset).endsWith(`\n//@credmux-deferred ${name} `) && /^(br|b64) [A-Za-z0-9+/=]+$/.test(text) && bundle[offset + length] === "\n", `${name}: a whole line's ENCODING DATA`);
  }
  assert.deepEqual([...readSections(BUNDLE, ["no-such-section"])!.keys()], []);
  const plain = path.join(tempDir(), "plain.cjs");
  fs.writeFileSync(plain, "module.exports = 1;\n");
  assert.equal(readSections(plain, ["main"]), undefined, "a file without an index");
});

test("a corrupt, truncated or other build's code cache costs a compile, never an answer, and is replaced", async () => {
  for (const spoil of [
    // V8 does not check a code cache's integrity: deserialized, these would crash it or run other code.
    (data: Buffer) => Buffer.from(data.map((byte, i) => (i > 64 ? byte ^ 0x5a : byte))),
    (data: Buffer) => Buffer.from(data.map((byte, i) => (i === Math.floor(data.length / 2) ? byte ^ 0x01 : byte))),
    (data: Buffer) => data.subarray(0, Math.floor(data.length / 3)),
    () => Buffer.alloc(0),
  ]) {
    const s = setup(undefined);
    await warm(s.config);
    const file = path.join(s.cacheDir, mainCache(s.cacheDir)!);
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, spoil(good), { mode: 0o600 });
    answered(await plugin(s.config));
    assertUsable(file);
  }
  const s = setup(undefined);
  fs.mkdirSync(s.cacheDir, { mode: 0o700 });
  const stale = path.join(s.cacheDir, `code-0000000000000000-main-${process.version}-${process.arch}.v8`);
  fs.writeFileSync(stale, "old build", { mode: 0o600 });
  await warm(s.config);
  assert.equal(fs.existsSync(stale), false, "another build's code cache is removed when this build's is written");
  assert.ok(mainCache(s.cacheDir));
});

test("an ES module provider loads through the compiled main code, with and without its code cache", async () => {
  const dir = trustedTempDir();
  const module = path.join(dir, "provider.mjs");
  fs.writeFileSync(module, `export default { type: "esm", create: () => async (request) => ({ auth: { [request.registry]: { username: "esm", password: "${PASSWORD}" } } }) };\n`);
  const config = writeConfig(dir, { cache: { dir: path.join(dir, "cache") }, providers: [{ name: "esm", type: "module", module, matchImages: ["registry.cc.test"] }] });
  await warm(config);
  assert.ok(mainCache(path.join(dir, "cache")));
  answered(await plugin(config));
});

test("the ECR provider and its SDK chunk get code caches of their own, and answer alike with them", { timeout: 300_000 }, async () => {
  const server = await startAwsServer();
  const key = { accessKeyId: "AKIDCODECACHE", secretAccessKey: "code-cache-secret" };
  server.addIdentity(key);
  const dir = tempDir();
  const cacheDir = path.join(dir, "cache");
  const config = writeConfig(dir, { cache: { dir: cacheDir }, providers: [{ name: "ecr", type: "ecr" }] });
  const env = {
    HOME: dir, AWS_ACCESS_KEY_ID: key.accessKeyId, AWS_SECRET_ACCESS_KEY: key.secretAccessKey, AWS_ENDPOINT_URL: server.url,
    AWS_CONFIG_FILE: path.join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "none"), AWS_EC2_METADATA_DISABLED: "true",
  };
  const image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/team/app";
  const answers = [];
  for (let i = 0; i < 2; i++) {
    // A miss each time: the credential entry goes, the code caches stay.
    for (const entry of fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir) : []) if (entry.endsWith(".json")) fs.rmSync(path.join(cacheDir, entry));
    const run = await runBundle(["--config", config], { stdin: request(image), env });
    assert.equal(run.status, 0, run.stderr);
    answers.push(JSON.parse(run.stdout).auth);
  }
  const names = codeCaches(cacheDir);
  for (const module of ["main", "providers-ecr", "providers-ecr-sdk"]) assert.ok(names.some((name) => name.includes(`-${module}-v`)), `${module} in ${names}`);
  assert.equal(server.calls("ecr:GetAuthorizationToken"), 2);
  assert.deepEqual(Object.keys(answers[1]!), Object.keys(answers[0]!));
  assert.deepEqual(server.refusals(), []);
});

test("a deferred module's decompressed text is kept beside its code cache and used as it is; a spoiled one is ignored and replaced", async () => {
  const dir = tempDir();
  const cacheDir = path.join(dir, "cache");
  fs.writeFileSync(path.join(dir, "token"), `${PASSWORD}\n`);
  const config = writeConfig(dir, { cache: { dir: cacheDir }, providers: [{ name: "registry", type: "token", matchImages: ["registry.cc.test"], username: "cc", secretFile: "token" }] });
  await warm(config);
  const kept = () => codeCachesAndSources(cacheDir).filter((name) => name.endsWith(".js"));
  const [source] = kept();
  assert.ok(source?.includes("-providers-token-v"), `kept: ${codeCachesAndSources(cacheDir)}`);
  const file = path.join(cacheDir, source);
  const good = fs.readFileSync(file);
  assert.equal(good.readUInt32LE(0), 0x32786d63, "the code caches' format: magic, length, two copies");
  const text = good.subarray(8, 8 + good.readUInt32LE(4)).toString("utf8");
  assert.match(text, /secretFile/, "the provider's code");
  const before = fs.statSync(file).mtimeMs;
  answered(await plugin(config));
  assert.equal(fs.statSync(file).mtimeMs, before, "used as it is, not written again");
  // One byte of one copy changed: the text is decompressed from the bundle again and the file replaced.
  const spoiled = Buffer.from(good);
  spoiled[8 + Math.floor(text.length / 2)] ^= 0x20;
  fs.writeFileSync(file, spoiled, { mode: 0o600 });
  answered(await plugin(config));
  assert.deepEqual(fs.readFileSync(file), good);
});

test("a code cache file is used only when its two copies agree: every single-bit flip anywhere in it is refused", () => {
  const data = Buffer.from(new Uint8Array(1031).map((_, i) => (i * 131 + 7) & 0xff));
  const file = codeCacheFile(data);
  const same = (read: Uint8Array | undefined) => read !== undefined && data.equals(read);
  assert.ok(same(codeCacheData(file, true)));
  for (let i = 0; i < file.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const flipped = Buffer.from(file);
      flipped[i]! ^= 1 << bit;
      assert.equal(codeCacheData(flipped, true), undefined, `byte ${i} bit ${bit}`);
    }
  }
  for (const length of [0, 8, file.length - 1, file.length + 1]) {
    const cut = Buffer.alloc(length);
    file.copy(cut, 0, 0, Math.min(length, file.length));
    assert.equal(codeCacheData(cut, true), undefined, `${length} bytes`);
  }
  const unaligned = new Uint8Array(file.length + 1).subarray(1);
  unaligned.set(file);
  assert.ok(same(codeCacheData(unaligned, true)), "at any alignment");
});

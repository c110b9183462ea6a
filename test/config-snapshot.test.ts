// Config notes (src/startup/config-snapshot.ts): a kubelet plugin run skips validating a config text its
// build validated before at the same path. Held here to: the same Config as validating gives, for
// every config the project ships or tests with; an edit, a module's change or an untrusted note
// always means validating; and no command but the plugin ever reads a note.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { loadConfig, type Config } from "../src/config.js";
import { ConfigSnapshots } from "../src/startup/config-snapshot.js";
import { REPO_ROOT } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, trustedTempDir, writeConfig } from "./helpers/temp.js";

const BUILD = "0123456789abcdef";
const V1 = "credentialprovider.kubelet.k8s.io/v1";

/** Loads twice with notes (validating and noting, then from the note) and once without; all three must agree. */
async function loadThreeWays(file: string) {
  const validated = await settled(await loadConfig(file));
  let noted = 0;
  const first = await settled(await loadConfig(file, undefined, { snapshotBuildId: BUILD, onNoted: () => noted++ }));
  const fromNote = await settled(await loadConfig(file, undefined, { snapshotBuildId: BUILD, onNoted: () => noted++ }));
  return { validated, first, fromNote, noted };
}

/** A config with each provider's definition loaded: from a note, a built-in's is loaded only when asked. */
async function settled(config: Config) {
  return { ...config, providers: await Promise.all(config.providers.map(async (provider) => ({ ...provider, definition: await provider.definition() }))) };
}

/** The configs this project ships and tests with, as JSON in dir with their cache.dir there: those that validate. */
function shippedConfigs(dir: string): string[] {
  const sources = [
    path.join(REPO_ROOT, "config", "example.yaml"),
    ...fs.readdirSync(path.join(REPO_ROOT, "config", "platforms")).map((platform) => path.join(REPO_ROOT, "config", "platforms", platform, "config.yaml")),
    ...fs.readdirSync(path.join(REPO_ROOT, "test", "fixtures", "configs")).map((name) => path.join(REPO_ROOT, "test", "fixtures", "configs", name)),
  ];
  return sources.flatMap((source, index) => {
    let document: { cache?: object } | null;
    try {
      document = YAML.parse(fs.readFileSync(source, "utf8")) as { cache?: object } | null;
    } catch {
      return []; // the malformed fixtures
    }
    if (typeof document !== "object" || document === null) return [];
    const file = path.join(dir, `${index}-${path.basename(source)}.json`);
    fs.writeFileSync(file, JSON.stringify({ ...document, cache: { ...document.cache, dir: path.join(dir, "cache") } }));
    return [file];
  });
}

test("a config loaded from its note is the Config validating it gives, for every config shipped or tested with", async () => {
  const dir = tempDir();
  let compared = 0;
  for (const file of shippedConfigs(dir)) {
    try {
      await loadConfig(file);
    } catch {
      continue; // the fixtures of invalid configs
    }
    const { validated, first, fromNote, noted } = await loadThreeWays(file);
    assert.deepStrictEqual(first, validated, file);
    assert.deepStrictEqual(fromNote, validated, file);
    assert.equal(noted, 1, `${file}: noted once, then loaded from the note`);
    compared++;
  }
  assert.ok(compared >= 8, `configs compared: ${compared}`);
});

test("an edited config is validated again: an invalid edit is reported as it would be with no note", async () => {
  const dir = tempDir();
  const cache = path.join(dir, "cache");
  const providers = [{ name: "registry", type: "dockercfg", matchImages: ["registry.snap.test"], files: [path.join(dir, "docker.json")] }];
  const file = writeConfig(dir, { cache: { dir: cache }, providers });
  await loadThreeWays(file);
  const note = new ConfigSnapshots(cache, BUILD).file(file);
  assert.equal(fs.statSync(note).mode & 0o777, 0o600);
  assert.equal(fs.statSync(cache).mode & 0o777, 0o700);
  writeConfig(dir, { cache: { dir: cache }, providers: [{ ...providers[0], files: "not-a-list" }] });
  await assert.rejects(loadConfig(file, undefined, { snapshotBuildId: BUILD }), {
    message: `config ${file}: providers[0].files (provider "registry"): expected a list, found a string`,
  });
});

/**
 * A note claiming that an invalid config (onFailure "sometimes") is valid, as credmux would write
 * it: the note of a valid config, its text and its Config edited to the invalid one's.
 */
async function forgedNote(dir: string) {
  const cache = path.join(dir, "cache");
  const providers = [{ name: "r", type: "dockercfg", matchImages: ["r.snap.test"] }];
  const file = writeConfig(dir, { cache: { dir: cache }, providers });
  await loadConfig(file, undefined, { snapshotBuildId: BUILD });
  const note = new ConfigSnapshots(cache, BUILD).file(file);
  const written = JSON.parse(fs.readFileSync(note, "utf8")) as { config: object };
  fs.rmSync(note);
  writeConfig(dir, { cache: { dir: cache }, onFailure: "sometimes", providers });
  const content = JSON.stringify({ ...written, text: fs.readFileSync(file, "utf8"), config: { ...written.config, onFailure: "sometimes" } });
  return { file, cache, note, content };
}

test("a note is trusted only as a code cache is: ours, 0600, in a 0700 directory, no symlink, this build's, this text's", async () => {
  // Each case plants a forged note; only the last, a note as credmux writes it, is trusted (which
  // shows the planting reaches the real lookup, and that the Config comes from the note).
  const plant = async (how: (note: string, cache: string, content: string) => void) => {
    const { file, cache, note, content } = await forgedNote(tempDir());
    how(note, cache, content);
    return loadConfig(file, undefined, { snapshotBuildId: BUILD });
  };
  const refused = { message: /onFailure: expected one of "error", "empty", found a string/ };
  await assert.rejects(plant((note, _, content) => fs.writeFileSync(note, content, { mode: 0o644 })), refused, "world-readable");
  await assert.rejects(plant((note, cache, content) => {
    fs.writeFileSync(note, content, { mode: 0o600 });
    fs.chmodSync(cache, 0o755);
  }), refused, "an open directory");
  await assert.rejects(plant((note, cache, content) => {
    const elsewhere = path.join(path.dirname(cache), "elsewhere");
    fs.writeFileSync(elsewhere, content, { mode: 0o600 });
    fs.symlinkSync(elsewhere, note);
  }), refused, "a symlink");
  await assert.rejects(plant((note, _, content) => fs.writeFileSync(note.replace(BUILD, "fedcba9876543210"), content, { mode: 0o600 })), refused, "another build's");
  await assert.rejects(plant((note, _, content) => fs.writeFileSync(note, content.replace("sometimes", "sometime"), { mode: 0o600 })), refused, "another text's");
  await assert.rejects(plant((note, _, content) => fs.writeFileSync(note, content.slice(0, -5), { mode: 0o600 })), refused, "truncated");
  const renamed = (content: string) => {
    const note = JSON.parse(content) as { config: { providers: Array<{ name: string }> } };
    return JSON.stringify({ ...note, config: { ...note.config, providers: note.config.providers.map((provider) => ({ ...provider, name: "other" })) } });
  };
  await assert.rejects(plant((note, _, content) => fs.writeFileSync(note, renamed(content), { mode: 0o600 })), refused, "a Config that does not fit the text");
  const trusted = await plant((note, _, content) => fs.writeFileSync(note, content, { mode: 0o600 }));
  assert.equal(trusted.onFailure, "sometimes");
});

test("a note of the previous version (the text alone) is ignored: the config is validated and noted again", async () => {
  const dir = tempDir();
  const { file, note, content } = await forgedNote(dir);
  const { text } = JSON.parse(content) as { text: string };
  const versionOne = JSON.stringify({ version: 1, path: file, text });
  fs.writeFileSync(note, versionOne, { mode: 0o600 });
  await assert.rejects(loadConfig(file, undefined, { snapshotBuildId: BUILD }), { message: /onFailure: expected one of "error", "empty", found a string/ });
  // The same for a valid config: validated, not misread, and its note rewritten in this version.
  writeConfig(dir, { cache: { dir: path.dirname(note) }, providers: [{ name: "r", type: "dockercfg", matchImages: ["r.snap.test"] }] });
  fs.writeFileSync(note, JSON.stringify({ version: 1, path: file, text: fs.readFileSync(file, "utf8") }), { mode: 0o600 });
  let noted = 0;
  const config = await settled(await loadConfig(file, undefined, { snapshotBuildId: BUILD, onNoted: () => noted++ }));
  assert.deepStrictEqual(config, await settled(await loadConfig(file)));
  assert.equal(noted, 1, "validated and noted again");
  assert.equal((JSON.parse(fs.readFileSync(note, "utf8")) as { version: number }).version, 2);
});

test("only the kubelet plugin's runs use notes; an operator's module checks its options on every run, noted or not", async () => {
  const dir = trustedTempDir();
  const cache = path.join(dir, "cache");
  const module = path.join(dir, "provider.js");
  const writeModule = (wanted: string) => fs.writeFileSync(module, `module.exports = {
  type: "picky",
  options: { safeParse: (v) => v.mode === ${JSON.stringify(wanted)} ? { success: true, data: v } : { success: false, error: { issues: [{ code: "custom", path: ["mode"], message: "mode must be ${wanted}", input: v.mode }] } } },
  create: () => async (request) => ({ auth: { [request.registry]: { username: "picky", password: "picky-pw" } } }),
};\n`);
  writeModule("fast");
  const config = writeConfig(dir, { cache: { dir: cache }, providers: [{ name: "picky", type: "module", module, matchImages: ["registry.snap.test"], mode: "fast" }] });
  const request = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "registry.snap.test/app" })}\n`;

  const validate = await runBundle(["validate", "--config", config]);
  assert.equal(validate.status, 0, validate.stderr);
  assert.deepEqual(fs.existsSync(cache) ? fs.readdirSync(cache).filter((name) => name.endsWith(".validated")) : [], [], "validate writes no note");

  for (let run = 0; run < 2; run++) {
    const answer = await runBundle(["--config", config], { stdin: request });
    assert.equal(answer.status, 0, answer.stderr);
  }
  assert.equal(fs.readdirSync(cache).filter((name) => name.endsWith(".validated")).length, 1, "the plugin noted the config");

  writeModule("slow");
  const refused = await runBundle(["--config", config], { stdin: request });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /providers\[0\]\.mode \(provider "picky"\): mode must be slow/);
  assert.equal(refused.stdout, "");
});

test("noting a config removes other builds' notes a week old, and keeps recent ones (the bundle and the single executable may share a directory)", async () => {
  const dir = tempDir();
  const cache = path.join(dir, "cache");
  const file = writeConfig(dir, { cache: { dir: cache }, providers: [{ name: "r", type: "dockercfg", matchImages: ["r.snap.test"] }] });
  fs.mkdirSync(cache, { mode: 0o700 });
  const content = JSON.stringify({ version: 2, path: file, text: fs.readFileSync(file, "utf8") });
  const recent = new ConfigSnapshots(cache, "1111111111111111").file(file);
  const old = new ConfigSnapshots(cache, "2222222222222222").file(file);
  fs.writeFileSync(recent, content, { mode: 0o600 });
  fs.writeFileSync(old, content, { mode: 0o600 });
  const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600e3);
  fs.utimesSync(old, eightDaysAgo, eightDaysAgo);
  await loadConfig(file, undefined, { snapshotBuildId: BUILD });
  assert.equal(fs.existsSync(new ConfigSnapshots(cache, BUILD).file(file)), true);
  assert.equal(fs.existsSync(recent), true, "a recent note of another build stays");
  assert.equal(fs.existsSync(old), false, "a week-old note of another build is removed");
});

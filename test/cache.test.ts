// The credential cache across execs of the built bundle: one upstream call per key, under load and
// under concurrency; nothing corrupt or foreign ever served, whatever is found on disk or however an
// exec dies; a valid cached credential when the upstream is down; no failure because of the cache.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { asCacheEntry } from "../src/cache/disk.js";
import { makeCacheKey, type CacheKey } from "../src/cache/key.js";
import { providerFingerprint } from "../src/cache/provider-fingerprint.js";
import { loadConfig } from "../src/config.js";
import { BUNDLE, FIXTURES } from "./helpers/paths.js";
import { baseEnv, runBundle } from "./helpers/run-bundle.js";
import { startTokenServer, type TokenServer } from "./helpers/token-server.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const PROVIDER = path.join(FIXTURES, "providers", "http-token-provider.js");
const request = (image: string) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image })}\n`;

function setup(server: TokenServer, extra: object = {}) {
  const dir = tempDir();
  const cacheDir = path.join(dir, "cache");
  const config = writeConfig(dir, {
    cache: { dir: cacheDir },
    providers: [{ name: "tokens", type: "module", module: PROVIDER, matchImages: ["*.cache.test"], endpoint: server.url }],
    ...extra,
  });
  return { dir, cacheDir, config };
}

async function exec(config: string, image: string, env: Record<string, string> = {}) {
  const run = await runBundle(["--config", config], { stdin: request(image), env });
  const response = run.status === 0 ? JSON.parse(run.stdout) : undefined;
  return { ...run, response };
}

/** The key an exec with this config uses for the node's credential of registry. */
async function keyOf(config: string, registry: string): Promise<CacheKey> {
  const loaded = await loadConfig(config);
  return makeCacheKey("tokens", registry, "node", providerFingerprint(loaded.providers[0]!, loaded.dir));
}

async function entryFile(config: string, cacheDir: string, registry: string): Promise<string> {
  return path.join(cacheDir, `${(await keyOf(config, registry)).hash}.json`);
}

// 300 execs (about 30 s on a quiet 2-core machine, 100 s under load): enough to show that every exec
// after the first of a registry is answered from the cache. No test timeout: each exec is bounded.
test("300 sequential execs over 10 registries, within the credentials' lifetime, make exactly 10 upstream calls", async () => {
  const server = await startTokenServer();
  const { config } = setup(server);
  const seen = new Map<string, string>();
  for (let i = 0; i < 300; i++) {
    const registry = `r${i % 10}.cache.test`;
    const run = await exec(config, `${registry}/team/app-${i % 7}`);
    assert.equal(run.status, 0, run.stderr);
    const password = run.response.auth[registry].password as string;
    if (!seen.has(registry)) seen.set(registry, password);
    assert.equal(password, seen.get(registry), "every exec answers with the one cached credential");
  }
  assert.equal(server.calls(), 10);
  for (let r = 0; r < 10; r++) assert.equal(server.calls(`r${r}.cache.test`), 1);
});

test("64 concurrent execs for one cold key make exactly 1 upstream call and answer alike", async () => {
  const server = await startTokenServer();
  server.delayMs = 300; // an upstream slow enough that every exec arrives while the first is fetching
  const { config, cacheDir } = setup(server);
  const runs = await Promise.all(Array.from({ length: 64 }, () => exec(config, "cold.cache.test/app")));
  for (const run of runs) assert.equal(run.status, 0, run.stderr);
  assert.equal(server.calls(), 1);
  const passwords = new Set(runs.map((run) => run.response.auth["cold.cache.test"].password));
  assert.equal(passwords.size, 1);
  // Credential entries and the code caches (test/code-cache.test.ts), nothing else.
  assert.deepEqual(fs.readdirSync(cacheDir).filter((name) => !name.endsWith(".json") && !/^(code-.*\.v8|config-.*\.validated)$/.test(name)), [], "no lock or temporary file left behind");
});

test("the answer's cacheDuration is the credential's remaining lifetime less the margin, on a miss and on a hit", async () => {
  const server = await startTokenServer();
  const { config } = setup(server);
  const seconds = (text: string) => { const [, m, s] = /^(\d+)m(\d+)s$/.exec(text)!; return Number(m) * 60 + Number(s); };
  // 1h of life less the 5m margin, rounded down: never a second longer than the credential lives.
  const miss = await exec(config, "life.cache.test/app");
  assert.ok([55 * 60, 55 * 60 - 1].includes(seconds(miss.response.cacheDuration)), miss.response.cacheDuration);
  const hit = await exec(config, "life.cache.test/other");
  assert.ok(seconds(hit.response.cacheDuration) <= seconds(miss.response.cacheDuration) && seconds(hit.response.cacheDuration) > 54 * 60, hit.response.cacheDuration);
  assert.equal(server.calls(), 1);
});

test("an exec killed with SIGKILL at random points (100 times) never leaves a cache that serves a corrupt or foreign credential", { timeout: 600_000 }, async () => {
  const server = await startTokenServer();
  server.delayMs = 5;
  const { config, cacheDir } = setup(server, { defaults: { timeout: "5s" } });
  const registries = ["k0.cache.test", "k1.cache.test", "k2.cache.test"];
  for (let round = 0; round < 100; round++) {
    const registry = registries[round % registries.length]!;
    if (round % 3 === 0) fs.rmSync(await entryFile(config, cacheDir, registry), { force: true });
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [BUNDLE, "--config", config], { env: baseEnv(), stdio: ["pipe", "ignore", "ignore"] });
      child.stdin.on("error", () => {});
      child.stdin.end(request(`${registry}/app`));
      setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 60));
      child.on("close", () => resolve());
    });
    const run = await exec(config, `${registry}/app`);
    assert.equal(run.status, 0, `round ${round}: ${run.stderr}`);
    const password = run.response.auth[registry].password;
    assert.ok(server.issued(registry).has(password), `round ${round}: a credential the upstream issued for ${registry}`);
    assert.deepEqual(Object.keys(run.response.auth), [registry], "no other registry's credential");
  }
});

test("a cache entry is read only with exactly an entry's shape: every field of the right type, nothing more", () => {
  const entry = {
    version: 1, key: "tokens r.test node", provider: "tokens", scope: "r.test", storedAt: 1, freshUntil: 2, expiresAt: 3,
    cacheKeyType: "Registry", auth: { "r.test": { username: "u", password: "p" } },
  };
  assert.deepEqual(asCacheEntry(entry), entry);
  const { expiresAt: _expiresAt, cacheKeyType: _cacheKeyType, ...required } = entry;
  assert.deepEqual(asCacheEntry(required), required, "expiresAt and cacheKeyType are optional");
  const spoiled: Array<[string, unknown]> = [
    ["not an object", "entry"], ["null", null], ["an array", [entry]],
    ["another version", { ...entry, version: 2 }], ["a numeric key", { ...entry, key: 7 }], ["no provider", { ...entry, provider: undefined }],
    ["a string scope", { ...entry, scope: null }], ["storedAt as text", { ...entry, storedAt: "1" }], ["no freshUntil", { ...required, freshUntil: undefined }],
    ["expiresAt as text", { ...entry, expiresAt: "3" }], ["an unknown cacheKeyType", { ...entry, cacheKeyType: "Forever" }],
    ["an extra field", { ...entry, note: "x" }], ["auth as text", { ...entry, auth: "x" }], ["auth as an array", { ...entry, auth: [] }],
    ["a credential without a password", { ...entry, auth: { "r.test": { username: "u" } } }],
    ["a credential with an extra field", { ...entry, auth: { "r.test": { username: "u", password: "p", auth: "dTpw" } } }],
    ["a numeric password", { ...entry, auth: { "r.test": { username: "u", password: 1 } } }],
  ];
  for (const [name, document] of spoiled) {
    const parsed = JSON.parse(JSON.stringify(document) ?? "null");
    assert.equal(asCacheEntry(parsed), undefined, name);
  }
});

test("bad cache files are ignored, logged and replaced, never trusted or followed", async () => {
  const server = await startTokenServer();
  const { dir, config, cacheDir } = setup(server);
  const registry = "bad.cache.test";
  const first = await exec(config, `${registry}/app`);
  assert.equal(first.status, 0, first.stderr);
  const file = await entryFile(config, cacheDir, registry);
  const good = fs.readFileSync(file, "utf8");
  // A valid entry, but for another key: the file of registry B copied over A's.
  await exec(config, "other.cache.test/app");
  const foreign = fs.readFileSync(await entryFile(config, cacheDir, "other.cache.test"), "utf8");
  const planted = path.join(dir, "planted.json");
  fs.writeFileSync(planted, good, { mode: 0o600 });
  const forged = JSON.stringify({ ...JSON.parse(good), auth: { [registry]: { username: "evil", password: "forged-password" } } });

  const cases: Array<[string, () => void, RegExp]> = [
    ["truncated", () => fs.writeFileSync(file, good.slice(0, good.length / 2), { mode: 0o600 }), /not valid JSON/],
    ["empty", () => fs.writeFileSync(file, "", { mode: 0o600 }), /it is empty/],
    ["garbage", () => fs.writeFileSync(file, "\u0000\u00ff garbage", { mode: 0o600 }), /not valid JSON/],
    ["wrong schema", () => fs.writeFileSync(file, JSON.stringify({ version: 1, auth: "x" }), { mode: 0o600 }), /shape of a cache entry/],
    ["another key's entry", () => fs.writeFileSync(file, foreign, { mode: 0o600 }), /entry of another key/],
    ["a symlink", () => { fs.rmSync(file, { force: true }); fs.symlinkSync(planted, file); }, /symlink/],
    ["world-readable", () => { fs.writeFileSync(file, forged, { mode: 0o644 }); fs.chmodSync(file, 0o644); }, /other users could read or write it/],
    ["a directory", () => { fs.rmSync(file, { force: true }); fs.mkdirSync(file); }, /not a regular file|cannot/],
  ];
  for (const [name, plant, warning] of cases) {
    plant();
    const before = server.calls(registry);
    const run = await exec(config, `${registry}/app`);
    assert.equal(run.status, 0, `${name}: ${run.stderr}`);
    assert.match(run.stderr, warning, `${name}: a warning says why`);
    assert.equal(server.calls(registry), before + 1, `${name}: the credential was fetched afresh`);
    const password = run.response.auth[registry].password;
    assert.ok(server.issued(registry).has(password), `${name}: answered with an issued credential, not "${password}"`);
    if (name !== "a directory") {
      const stat = fs.lstatSync(file);
      assert.ok(stat.isFile() && (stat.mode & 0o777) === 0o600, `${name}: replaced by a 0600 entry`);
    } else {
      fs.rmSync(file, { recursive: true, force: true });
    }
  }
  assert.equal(fs.readFileSync(planted, "utf8"), good, "the symlink's target was not written through");
});

test("upstream down: a still-valid cached credential is served; an expired one is not", async () => {
  const server = await startTokenServer();
  const { config, cacheDir } = setup(server);
  const registry = "down.cache.test";
  const first = await exec(config, `${registry}/app`);
  const password = first.response.auth[registry].password;
  server.mode = "fail";
  // Fresh: answered from the cache without asking the upstream at all.
  const fresh = await exec(config, `${registry}/app`);
  assert.equal(fresh.status, 0);
  assert.equal(fresh.response.auth[registry].password, password);
  assert.equal(server.calls(registry), 1);
  // Past its freshness but within its real lifetime: the upstream is asked, fails, the cache answers.
  const file = await entryFile(config, cacheDir, registry);
  const entry = JSON.parse(fs.readFileSync(file, "utf8"));
  fs.writeFileSync(file, JSON.stringify({ ...entry, freshUntil: Date.now() - 1000, expiresAt: Date.now() + 120_000 }), { mode: 0o600 });
  const stale = await exec(config, `${registry}/app`);
  assert.equal(stale.status, 0, stale.stderr);
  assert.equal(stale.response.auth[registry].password, password);
  assert.match(stale.response.cacheDuration, /^(1m59s|2m0s|1m58s)$/);
  assert.match(stale.stderr, /the provider failed; answering with its cached credential/);
  assert.equal(server.calls(registry), 2);
  // Expired: the upstream's error, exit 1.
  fs.writeFileSync(file, JSON.stringify({ ...entry, freshUntil: Date.now() - 2000, expiresAt: Date.now() - 1000 }), { mode: 0o600 });
  const expired = await exec(config, `${registry}/app`);
  assert.equal(expired.status, 1);
  assert.equal(expired.stdout, "");
  assert.match(expired.human, /^credmux: provider tokens: token endpoint http:\/\/127\.0\.0\.1:\d+\/token answered HTTP 503: upstream unavailable\n$/);
});

test("cache trouble degrades to an uncached answer with one warning, never a failure", async () => {
  const server = await startTokenServer();
  const base = tempDir();
  const notADirectory = path.join(base, "file");
  fs.writeFileSync(notADirectory, "x");
  const elsewhere = path.join(base, "elsewhere");
  fs.mkdirSync(elsewhere, { mode: 0o700 });
  const symlinked = path.join(base, "link");
  fs.symlinkSync(elsewhere, symlinked);
  const foreignOwner = path.join(base, "foreign");
  fs.mkdirSync(foreignOwner, { mode: 0o700 });
  fs.chownSync(foreignOwner, 65534, 65534);
  const cases: Array<[string, string, RegExp]> = [
    ["a path under a regular file", path.join(notADirectory, "cache"), /cannot use the cache directory \(ENOTDIR\)/],
    ["a symlinked directory", symlinked, /symlink/],
    ["a directory owned by another user", foreignOwner, /belongs to uid 65534/],
  ];
  for (const [name, cacheDir, warning] of cases) {
    const { config } = setup(server, { cache: { dir: cacheDir } });
    const before = server.calls();
    for (let i = 0; i < 2; i++) {
      const run = await exec(config, "degrade.cache.test/app");
      assert.equal(run.status, 0, `${name}: ${run.stderr}`);
      assert.ok(run.response.auth["degrade.cache.test"], name);
      const warnings = run.stderr.split("\n").filter((line) => line.includes('"level":"warn"'));
      assert.equal(warnings.length, 1, `${name}: one warning, found ${run.stderr}`);
      assert.match(warnings[0]!, warning);
    }
    assert.equal(server.calls(), before + 2, `${name}: answered uncached`);
  }
  assert.deepEqual(fs.readdirSync(elsewhere), [], "nothing written through the symlink");
});

test("a group-readable cache directory of ours is closed to 0700 before use", async () => {
  const server = await startTokenServer();
  const { config, cacheDir } = setup(server);
  fs.mkdirSync(cacheDir, { mode: 0o755 });
  fs.chmodSync(cacheDir, 0o755);
  const run = await exec(config, "mode.cache.test/app");
  assert.equal(run.status, 0, run.stderr);
  assert.equal(fs.statSync(cacheDir).mode & 0o777, 0o700);
  for (const name of fs.readdirSync(cacheDir)) assert.equal(fs.statSync(path.join(cacheDir, name)).mode & 0o777, 0o600);
});

test("a lock left by a killed holder is taken over at once", async () => {
  const server = await startTokenServer();
  const { config, cacheDir } = setup(server, { defaults: { timeout: "10s" } });
  fs.mkdirSync(cacheDir, { mode: 0o700 });
  const key = await keyOf(config, "lock.cache.test");
  fs.writeFileSync(path.join(cacheDir, `${key.hash}.lock`), JSON.stringify({ pid: 2 ** 22 + 12345, nonce: "dead", createdAt: Date.now() }));
  // At info the cache says what it did: took the lock over, and never waited for the dead holder.
  const run = await exec(config, "lock.cache.test/app", { CREDMUX_LOG_LEVEL: "info" });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stderr, /took over a cache lock whose holder is gone/);
  assert.doesNotMatch(run.stderr, /gave up waiting for another exec's fetch/, "did not wait for the dead holder");
  assert.equal(server.calls(), 1);
});

test("cache list shows keys and expiry without secrets; cache clear removes them", async () => {
  const server = await startTokenServer();
  const { config } = setup(server);
  const answers = [await exec(config, "l1.cache.test/app"), await exec(config, "l2.cache.test/app")];
  const list = await runBundle(["cache", "list", "--config", config]);
  assert.equal(list.status, 0, list.stderr);
  assert.equal(list.stdout.split("\n")[0], "PROVIDER\tREGISTRY\tIDENTITY\tSERVED\tEXPIRES\tKEYS");
  assert.match(list.stdout, /^tokens\tl1\.cache\.test\tnode\tserved until \S+\texpires \S+\tl1\.cache\.test$/m);
  const rows = JSON.parse((await runBundle(["cache", "list", "-o", "json", "--config", config])).stdout) as Array<{ provider: string; registry: string; keys: string[] }>;
  assert.deepEqual(rows.map((row) => [row.provider, row.registry, row.keys]).sort(), [["tokens", "l1.cache.test", ["l1.cache.test"]], ["tokens", "l2.cache.test", ["l2.cache.test"]]]);
  assert.match(list.stdout, /^tokens\tl2\.cache\.test\t/m);
  for (const answer of answers) {
    for (const entry of Object.values(answer.response.auth) as Array<{ password: string }>) assert.ok(!list.stdout.includes(entry.password));
  }
  const clearOther = await runBundle(["cache", "clear", "--provider", "someone-else", "--config", config]);
  assert.match(clearOther.stdout, /removed 0 cached credentials/);
  const clear = await runBundle(["cache", "clear", "--provider", "tokens", "--config", config]);
  assert.match(clear.stdout, /removed 2 cached credentials/);
  assert.match((await runBundle(["cache", "list", "--config", config])).stdout, /no cached credentials/);
});

test("the on-disk cache holds files of mode 0600 in a 0700 directory, named by hash, with no secret in any name", async () => {
  const server = await startTokenServer();
  const { config, cacheDir } = setup(server);
  const run = await exec(config, "names.cache.test/app");
  assert.equal(fs.statSync(cacheDir).mode & 0o777, 0o700);
  for (const name of fs.readdirSync(cacheDir)) {
    // A credential entry, the V8 code cache of the main code (test/code-cache.test.ts), or the note
    // that this config was validated (test/config-snapshot.test.ts).
    assert.match(name, /^([0-9a-f]{64}\.json|code-[0-9a-f]{16}-main-v[\d.]+-\w+\.v8|config-[0-9a-f]{16}-[0-9a-f]{16}\.validated)$/);
    assert.equal(fs.statSync(path.join(cacheDir, name)).mode & 0o777, 0o600);
    assert.ok(!name.includes(run.response.auth["names.cache.test"].password));
  }
});

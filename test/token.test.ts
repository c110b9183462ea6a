// The token provider: a fixed username and a token from a file (re-read on every exec) or an
// environment variable, a JWT's exp as the expiry, and bad input failing on one line without the
// token in it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import token from "../providers/token.js";
import { SecretSet } from "../src/secrets.js";
import type { ProviderEnv } from "../src/provider.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1" as const;
const NOW = Date.parse("2026-11-23T10:00:00Z");
const request = { image: "ghcr.test/org/app", registry: "ghcr.test", apiVersion: V1 };
const signal = new AbortController().signal;
const jwt = (claims: object) => `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.c2lnbmF0dXJl`;

function providerEnv(configDir: string, environment: Record<string, string> = {}): ProviderEnv {
  return { name: "gh", matchImages: ["registry.test"], log: new CaptureLog(), secrets: new SecretSet(), now: () => NOW, env: environment, cwd: configDir, configDir };
}

function makeProvider(options: Record<string, unknown>, env: ProviderEnv) {
  const parsed = token.options().safeParse(options);
  assert.ok(parsed.success, JSON.stringify(!parsed.success && parsed.error.issues));
  return token.create(parsed.data, env);
}

test("secretFile: the token, trimmed, under the username, for the image's registry; re-read on every call", async () => {
  const dir = tempDir();
  const file = path.join(dir, "token");
  fs.writeFileSync(file, "ghp_firstTokenValue\n");
  const env = providerEnv(dir);
  const fn = makeProvider({ username: "ci-bot", secretFile: "token" }, env);
  assert.deepEqual(await fn(request, signal), { auth: { "ghcr.test": { username: "ci-bot", password: "ghp_firstTokenValue" } } });
  assert.equal(env.secrets.mask("ghp_firstTokenValue"), "***", "the token is remembered for masking");
  fs.writeFileSync(file, "ghp_rotatedTokenValue");
  assert.equal((await fn(request, signal)).auth["ghcr.test"]!.password, "ghp_rotatedTokenValue", "a rotated file takes effect at the next call");
});

test("secretEnv: the kubelet's environment variable", async () => {
  const fn = makeProvider({ username: "robot$ci", secretEnv: "HARBOR_TOKEN" }, providerEnv(tempDir(), { HARBOR_TOKEN: " robot-secret-value " }));
  assert.deepEqual((await fn(request, signal)).auth, { "ghcr.test": { username: "robot$ci", password: "robot-secret-value" } });
});

test("a JWT's exp is the expiry; an opaque token has none", async () => {
  const dir = tempDir();
  const file = path.join(dir, "token");
  const exp = NOW / 1000 + 3600;
  fs.writeFileSync(file, jwt({ sub: "robot", exp }));
  const fn = makeProvider({ username: "oauth2", secretFile: file }, providerEnv(dir));
  assert.equal((await fn(request, signal)).expiresAt?.getTime(), exp * 1000);
  fs.writeFileSync(file, "glpat-opaque-token");
  assert.equal((await fn(request, signal)).expiresAt, undefined);
});

test("options: exactly one source, a non-empty username", () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ["neither source", { username: "u" }],
    ["both sources", { username: "u", secretFile: "f", secretEnv: "E" }],
    ["empty username", { username: "", secretFile: "f" }],
    ["unknown field", { username: "u", secretFile: "f", password: "inline" }],
  ];
  for (const [name, options] of cases) assert.equal(token.options().safeParse(options).success, false, name);
});

test("bad input fails on one line without the token: missing file, empty file, unset or empty variable, expired JWT", async () => {
  const dir = tempDir();
  const expired = jwt({ exp: Math.floor(Date.now() / 1000) - 60 });
  fs.writeFileSync(path.join(dir, "empty"), "\n\n");
  fs.writeFileSync(path.join(dir, "expired"), expired);
  fs.mkdirSync(path.join(dir, "a-directory"));
  const cases: Array<[string, Record<string, unknown>, Record<string, string>, string | RegExp]> = [
    ["missing file", { secretFile: "missing" }, {}, `credmux: provider gh (token): secretFile ${dir}/missing: no such file (check the path (relative paths are resolved against the credmux config's directory) and that the secret is mounted)`],
    ["empty file", { secretFile: "empty" }, {}, `credmux: provider gh (token): secretFile ${dir}/empty: empty (the file must hold the secret itself; check what writes or mounts it)`],
    ["a directory", { secretFile: "a-directory" }, {}, `credmux: provider gh (token): secretFile ${dir}/a-directory: not a regular file`],
    ["unset variable", { secretEnv: "GH_TOKEN" }, {}, "credmux: provider gh (token): environment variable GH_TOKEN is not set (set it in the kubelet's environment (a systemd drop-in), or use secretFile)"],
    ["empty variable", { secretEnv: "GH_TOKEN" }, { GH_TOKEN: "  " }, "credmux: provider gh (token): environment variable GH_TOKEN is empty (it must hold the registry token itself)"],
    ["expired JWT", { secretFile: "expired" }, {}, new RegExp(`^credmux: provider gh \\(token\\): the JWT in secretFile ${dir}/expired expired at \\S+Z \\(check whatever rotates this token\\)$`)],
  ];
  for (const [name, options, environment, line] of cases) {
    const config = writeConfig(dir, { providers: [{ name: "gh", type: "token", matchImages: ["ghcr.test"], username: "bot", ...options }] });
    const run = await runBundle(["--config", config, "--log-level", "debug"], {
      stdin: `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "ghcr.test/org/app" })}\n`, env: environment,
    });
    assert.equal(run.status, 1, name);
    assert.equal(run.stdout, "", name);
    const lines = run.stderr.split("\n").filter((text) => text.startsWith("credmux: "));
    assert.equal(lines.length, 1, `${name}: ${run.stderr}`);
    if (typeof line === "string") assert.equal(lines[0], line, name);
    else assert.match(lines[0]!, line, name);
    assert.equal(run.stderr.includes(expired), false, `${name}: the token leaked`);
  }
});

test("through the bundle: a JWT's remaining lifetime less the margin is the cacheDuration, and nothing is cached on disk", async () => {
  const dir = tempDir();
  const cacheDir = path.join(dir, "cache");
  const value = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
  fs.writeFileSync(path.join(dir, "token"), value);
  const config = writeConfig(dir, { cache: { dir: cacheDir }, providers: [{ name: "gh", type: "token", matchImages: ["ghcr.test"], username: "bot", secretFile: "token" }] });
  const run = await runBundle(["--config", config, "--log-level", "debug"], { stdin: `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "ghcr.test/org/app" })}\n` });
  assert.equal(run.status, 0, run.stderr);
  const response = JSON.parse(run.stdout);
  assert.deepEqual(response.auth, { "ghcr.test": { username: "bot", password: value } });
  assert.match(response.cacheDuration, /^(55m0s|54m5\ds)$/);
  assert.equal(run.stderr.includes(value), false, "debug logs never show the token");
  assert.deepEqual(fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).filter((name) => name.endsWith(".json")) : [], [], "token answers are never cached");
});

test("credmux validate names the entry and the rule", async () => {
  const dir = tempDir();
  const config = writeConfig(dir, { providers: [{ name: "gh", type: "token", matchImages: ["ghcr.test"], username: "bot" }] });
  const run = await runBundle(["validate", "--config", config]);
  assert.equal(run.status, 1);
  assert.equal(run.stderr, `credmux: config ${config}: providers[0] (provider "gh"): expected exactly one of secretFile and secretEnv, where the token comes from\n`);
});

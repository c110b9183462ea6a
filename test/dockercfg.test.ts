// The dockercfg provider: both file formats, the kubelet's search path, merge order, skipped
// entries, and files re-read on every call.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import dockercfg, { kubeletSearchPaths } from "../providers/dockercfg.js";
import { SecretSet } from "../src/secrets.js";
import type { ProviderEnv } from "../src/provider.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { FIXTURES } from "./helpers/paths.js";
import { tempDir } from "./helpers/temp.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const signal = new AbortController().signal;
const request = { image: "registry.test/app", registry: "registry.test", apiVersion: "credentialprovider.kubelet.k8s.io/v1" as const };

function env(overrides: Partial<ProviderEnv> = {}): ProviderEnv & { log: CaptureLog } {
  return {
    name: "test", log: new CaptureLog(), secrets: new SecretSet(), now: Date.now, env: {}, cwd: "/nonexistent-cwd", configDir: FIXTURES,
    ...overrides,
  } as ProviderEnv & { log: CaptureLog };
}

function provider(options: Record<string, unknown>, e = env()) {
  const parsed = dockercfg.options().safeParse(options);
  assert.ok(parsed.success);
  return dockercfg.create(parsed.data, e);
}

test("config.json entries: auth decoded, username/password taken, identity tokens and empty entries skipped", async () => {
  const e = env();
  const result = await provider({ files: ["dockercfg/registry.json"] }, e)(request, signal);
  assert.deepEqual(result.auth, {
    "registry.test": { username: "ci-robot", password: "registry-secret-1" },
    "registry.test/team-a": { username: "team-a", password: "team-a-secret-2" },
    "other.test": { username: "other", password: "other-secret-3" },
    "registry.test:5000": { username: "port-user", password: "port-secret-6" },
  });
  assert.ok(e.log.at("debug").some((line) => /identity or registry token/.test(line.message) && line.fields?.key === "ghcr.test"));
  assert.ok(e.secrets.mask("x registry-secret-1 y").includes("***"), "passwords are remembered for masking");
});

test("legacy .dockercfg: the bare map", async () => {
  const result = await provider({ files: ["dockercfg/legacy.dockercfg"] })(request, signal);
  assert.deepEqual(result.auth, { "legacy.test": { username: "legacy-user", password: "legacy-secret-7" } });
});

test("several files merge in order; an earlier file's key wins, whatever its spelling", async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify({ auths: { "registry.test": { auth: b64("first:pw-first") } } }));
  fs.writeFileSync(path.join(dir, "b.json"), JSON.stringify({ auths: { "https://registry.test/v2/": { auth: b64("second:pw-second") }, "b.test": { auth: b64("b:pw-b") } } }));
  const result = await provider({ files: [path.join(dir, "a.json"), path.join(dir, "b.json")] })(request, signal);
  assert.deepEqual(result.auth, { "registry.test": { username: "first", password: "pw-first" }, "b.test": { username: "b", password: "pw-b" } });
});

test("files are re-read on every call, so a rotated credential takes effect", async () => {
  const dir = tempDir();
  const file = path.join(dir, "config.json");
  fs.writeFileSync(file, JSON.stringify({ auths: { "registry.test": { auth: b64("u:old-password") } } }));
  const fn = provider({ files: [file] });
  assert.equal((await fn(request, signal)).auth["registry.test"]!.password, "old-password");
  fs.writeFileSync(file, JSON.stringify({ auths: { "registry.test": { auth: b64("u:new-password") } } }));
  assert.equal((await fn(request, signal)).auth["registry.test"]!.password, "new-password");
});

test("the kubelet's search path, in its order", () => {
  assert.deepEqual(kubeletSearchPaths("/var/lib/kubelet", "/run/cwd", "/root"), {
    json: ["/var/lib/kubelet/config.json", "/run/cwd/config.json", "/root/.docker/config.json", "/.docker/config.json"],
    legacy: ["/var/lib/kubelet/.dockercfg", "/run/cwd/.dockercfg", "/root/.dockercfg", "/.dockercfg"],
  });
  assert.deepEqual(kubeletSearchPaths("/k", "/c", undefined).json, ["/k/config.json", "/c/config.json", "/.docker/config.json"]);
});

test("without files: the first config.json on the search path, else the first .dockercfg", async () => {
  const root = tempDir();
  const home = tempDir();
  fs.mkdirSync(path.join(home, ".docker"));
  fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify({ auths: { "registry.test": { auth: b64("home:pw-home") } } }));
  fs.writeFileSync(path.join(root, ".dockercfg"), JSON.stringify({ "registry.test": { auth: b64("legacy:pw-legacy") } }));
  const fromHome = await provider({ rootDir: root }, env({ env: { HOME: home } }))(request, signal);
  assert.deepEqual(fromHome.auth, { "registry.test": { username: "home", password: "pw-home" } });
  const fromLegacy = await provider({ rootDir: root }, env({ env: { HOME: tempDir() } }))(request, signal);
  assert.deepEqual(fromLegacy.auth, { "registry.test": { username: "legacy", password: "pw-legacy" } });
  fs.writeFileSync(path.join(root, "config.json"), JSON.stringify({ auths: { "registry.test": { auth: b64("root:pw-root") } } }));
  const fromRoot = await provider({ rootDir: root }, env({ env: { HOME: home } }))(request, signal);
  assert.deepEqual(fromRoot.auth, { "registry.test": { username: "root", password: "pw-root" } });
  const nothing = await provider({ rootDir: tempDir() }, env({ env: { HOME: tempDir() }, cwd: tempDir() }))(request, signal);
  assert.deepEqual(nothing.auth, {});
});

test("errors name the file and the JSON path, and never quote the secret", async () => {
  const dir = tempDir();
  const write = (name: string, body: string) => { fs.writeFileSync(path.join(dir, name), body); return path.join(dir, name); };
  const cases: Array<[string, string, RegExp]> = [
    ["top.json", "[]", /top\.json: expected a JSON object at the top level, found a list/],
    ["entry.json", JSON.stringify({ auths: { "r.test": "x" } }), /entry\.json: auths\["r\.test"\]: expected an object with auth or username\/password/],
    ["type.json", JSON.stringify({ auths: { "r.test": { password: 5 } } }), /type\.json: auths\["r\.test"\]\.password: expected a string, found number/],
    ["colon.json", JSON.stringify({ auths: { "r.test": { auth: b64("secret-without-colon") } } }), /found no ':' after decoding/],
  ];
  for (const [name, body, expected] of cases) {
    const file = write(name, body);
    await assert.rejects(provider({ files: [file] })(request, signal), (error: Error) => {
      assert.match(error.message, expected);
      assert.ok(!error.message.includes("secret-without-colon"));
      return true;
    });
  }
});

// The cache does not outlive the config (issue 15): through the built bundle, execs sharing a cache
// dir, an operator's change to a provider (its token endpoint, client, client secret file or the
// secret in it, username, scope) is a miss at the next exec, which reaches the upstream the config
// now names with what it now says; the same config, however rewritten, is still a hit.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startOAuthServer, type OAuthExpectation, type OAuthServer } from "./helpers/oauth-server.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const REGISTRY = "registry.rotate.test";
const STDIN = `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: `${REGISTRY}/team/app` })}\n`;
const SECRET = "client-secret-one-Zq81";

interface Setup {
  dir: string;
  /** Two token endpoints: the config names the first; a change may name the second. */
  servers: [OAuthServer, OAuthServer];
  /** The oauth2 provider's entry, written by writeConfig. */
  entry: Record<string, unknown>;
  /** Writes the config (JSON, or YAML with the entry's keys reversed: the same config); returns its path. */
  writeConfig(form?: "json" | "yaml", extra?: object): string;
}

const expectation = (clientId: string, clientSecret: string, fields: Record<string, string[]> = {}): OAuthExpectation => ({
  clientAuth: "basic", clientId, clientSecret, fields: { grant_type: ["client_credentials"], ...fields },
});

async function setup(): Promise<Setup> {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "client-secret"), `${SECRET}\n`);
  const servers: [OAuthServer, OAuthServer] = [await startOAuthServer(expectation("robot", SECRET)), await startOAuthServer(expectation("robot", SECRET))];
  const entry: Record<string, unknown> = {
    name: "idp", type: "oauth2", matchImages: [REGISTRY], tokenUrl: servers[0].url, grant: "client_credentials",
    username: "robot-user", clientId: "robot", clientSecretFile: "client-secret",
  };
  const file = path.join(dir, "config");
  return {
    dir, servers, entry,
    writeConfig(form = "json", extra = {}) {
      const document = { apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(dir, "cache") }, providers: [entry], ...extra };
      if (form === "json") {
        fs.writeFileSync(file, JSON.stringify(document));
      } else {
        const reversed = Object.fromEntries(Object.entries(entry).reverse());
        // JSON is YAML too; the comment makes it a YAML file to credmux.
        fs.writeFileSync(file, `# the same config, rewritten\n${JSON.stringify({ ...document, providers: document.providers.map((p) => (p === entry ? reversed : p)) }, null, 2)}\n`);
      }
      return file;
    },
  };
}

/** One exec; its answer's credential for the registry. */
async function exec(config: string): Promise<{ username: string; password: string }> {
  const run = await runBundle(["--config", config], { stdin: STDIN });
  assert.equal(run.status, 0, run.stderr);
  return JSON.parse(run.stdout).auth[REGISTRY];
}

const requests = (s: Setup) => s.servers[0].requests.length + s.servers[1].requests.length;

/** Each change, and which endpoint must be asked after it with what (the endpoint refuses anything else). */
const changes: Array<{ name: string; change(s: Setup): OAuthServer }> = [
  { name: "tokenUrl: another endpoint", change: (s) => { s.entry.tokenUrl = s.servers[1].url; return s.servers[1]; } },
  {
    name: "clientId: another client",
    change: (s) => { s.entry.clientId = "robot-2"; s.servers[0].expect = expectation("robot-2", SECRET); return s.servers[0]; },
  },
  {
    name: "clientSecretFile: another file",
    change: (s) => {
      fs.writeFileSync(path.join(s.dir, "client-secret-2"), "client-secret-two-Zq82\n");
      s.entry.clientSecretFile = "client-secret-2";
      s.servers[0].expect = expectation("robot", "client-secret-two-Zq82");
      return s.servers[0];
    },
  },
  {
    name: "the secret file rotated in place, same size",
    change: (s) => {
      fs.writeFileSync(path.join(s.dir, "client-secret"), "client-secret-new-Zq81\n");
      s.servers[0].expect = expectation("robot", "client-secret-new-Zq81");
      return s.servers[0];
    },
  },
  {
    name: "the secret file replaced by a rename, as a secret volume updates",
    change: (s) => {
      fs.writeFileSync(path.join(s.dir, "next-secret"), "client-secret-rep-Zq81\n");
      fs.renameSync(path.join(s.dir, "next-secret"), path.join(s.dir, "client-secret"));
      s.servers[0].expect = expectation("robot", "client-secret-rep-Zq81");
      return s.servers[0];
    },
  },
  { name: "username", change: (s) => { s.entry.username = "other-user"; return s.servers[0]; } },
  {
    name: "an option added: scope",
    change: (s) => { s.entry.scope = "pull"; s.servers[0].expect = expectation("robot", SECRET, { scope: ["pull"] }); return s.servers[0]; },
  },
];

for (const { name, change } of changes) {
  test(`oauth2, changed between execs sharing a cache dir: ${name} is a miss that reaches the new upstream`, async () => {
    const s = await setup();
    const config = s.writeConfig();
    const first = await exec(config);
    assert.deepEqual(await exec(config), first, "unchanged: answered from the cache");
    assert.equal(requests(s), 1);
    const reached = change(s);
    const before = reached.requests.length;
    s.writeConfig();
    const changed = await exec(config);
    assert.equal(reached.requests.length, before + 1, "the endpoint the config now names was asked");
    assert.equal(requests(s), 2, "asked once");
    assert.deepEqual(changed, { username: s.entry.username, password: reached.issued.at(-1) }, "answered with what it issued");
    assert.deepEqual(await exec(config), changed, "the changed config's answer is cached in turn");
    assert.equal(requests(s), 2);
  });
}

test("the same config rewritten (YAML, its keys in another order, another log level, another provider beside it) is still a hit", async () => {
  const s = await setup();
  const first = await exec(s.writeConfig());
  const rewritten = s.writeConfig("yaml", {
    log: { level: "error" },
    defaults: { timeout: "15s" },
    providers: [{ name: "other", type: "token", matchImages: ["other.test"], username: "u", secretEnv: "NOT_SET" }, s.entry],
  });
  assert.deepEqual(await exec(rewritten), first);
  assert.equal(requests(s), 1, "the upstream was asked once across the execs");
});

test("token: a changed username is answered at the next exec, with a cache dir shared", async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "token"), "registry-token-1\n");
  const config = path.join(dir, "config.json");
  const write = (username: string) => fs.writeFileSync(config, JSON.stringify({
    apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: path.join(dir, "cache") },
    providers: [{ name: "tok", type: "token", matchImages: [REGISTRY], username, secretFile: "token" }],
  }));
  write("first-user");
  assert.deepEqual(await exec(config), { username: "first-user", password: "registry-token-1" });
  write("second-user");
  assert.deepEqual(await exec(config), { username: "second-user", password: "registry-token-1" });
});

test("cache list says which entries the current config would never serve: another config's, an earlier build's, a key it cannot read", async () => {
  const s = await setup();
  const config = s.writeConfig();
  await exec(config);
  s.entry.clientId = "robot-2";
  s.servers[0].expect = expectation("robot-2", SECRET);
  s.writeConfig();
  await exec(config);
  const cacheDir = path.join(s.dir, "cache");
  const plant = (name: string, scope: string, key: string) => fs.writeFileSync(path.join(cacheDir, `${name.repeat(64)}.json`),
    JSON.stringify({ version: 1, key, provider: "idp", scope, storedAt: 1, freshUntil: Date.now() + 60_000, auth: {} }), { mode: 0o600 });
  plant("a", "earlier-build.test", JSON.stringify(["idp", "earlier-build.test", "node"]));
  plant("b", "foreign.test", "idp foreign.test node");
  const list = await runBundle(["cache", "list", "--config", config]);
  assert.equal(list.status, 0, list.stderr);
  const lines = list.stdout.trim().split("\n").slice(1).map((line) => line.split("\t").slice(0, 4).join(" | ")).sort();
  assert.deepEqual(lines, [
    "idp | earlier-build.test | node | never served (fetched under another config of its provider)",
    "idp | foreign.test | ? | never served (fetched under another config of its provider)",
    `idp | ${REGISTRY} | node | never served (fetched under another config of its provider)`,
    `idp | ${REGISTRY} | node | ${lines.find((line) => line.includes("served until"))?.split(" | ")[3]}`,
  ].sort());
  assert.match(lines.find((line) => line.includes("served until"))!, /^idp \| registry\.rotate\.test \| node \| served until \d{4}-\d\d-\d\dT\S+Z$/);
});

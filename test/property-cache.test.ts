// The cache never outlives the config (issue 15): generated sequences of edits between execs that
// share a cache dir. An edit that changes what the oauth2 provider is configured with (endpoint,
// client, secret file, username, scope, matchImages, tokenAttributes) or rewrites the secret file it
// names must be a miss that asks the endpoint with what the config now says; an edit that changes
// nothing it is configured with (key order, YAML for JSON, log level, timeout, another provider
// beside it, a secret file it does not name) must be a hit. Back at settings a credential was
// fetched under, that credential is served again: the config grants it again.
// In this process through runCli for volume (each run validates its config), and through the built
// bundle, where an unchanged config text is read from its note without validating.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as fc from "fast-check";
import { runCli } from "../src/cli.js";
import { startOAuthServer, type OAuthExpectation, type OAuthServer } from "./helpers/oauth-server.js";
import { checkProperty } from "./helpers/property.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const REGISTRY = "reg.prop.test";
const STDIN = JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: `${REGISTRY}/team/app` });
const SECRET_FILES = ["secret-a", "secret-b"] as const;
type SecretFile = (typeof SECRET_FILES)[number];

/** What the provider is configured with: each field's values are the edits' vocabulary. */
interface Settings {
  /** 0 and 1: the two endpoints; 2: the first one under another URL (a query). */
  endpoint: 0 | 1 | 2;
  clientId: string;
  clientSecretFile: SecretFile;
  username: string;
  scope?: string | string[];
  matchImages: string[];
  /** tokenAttributes' audience; none without. */
  audience?: string;
}

const VALUES: { [K in keyof Settings]-?: ReadonlyArray<Settings[K]> } = {
  endpoint: [0, 1, 2],
  clientId: ["robot", "robot-2"],
  clientSecretFile: SECRET_FILES,
  username: ["user-1", "user-2"],
  scope: [undefined, "pull", ["pull", "list"]] as Array<string | string[]>,
  matchImages: [[REGISTRY], [REGISTRY, "other.test"], ["*.prop.test"]],
  audience: [undefined, "reg", "other"] as string[],
};
const INITIAL: Settings = { endpoint: 0, clientId: "robot", clientSecretFile: "secret-a", username: "user-1", matchImages: [REGISTRY] };

/** How the config text is written: none of it changes what the provider is configured with. */
interface Layout {
  form: "json" | "yaml";
  reversed: boolean;
  level: "warn" | "error" | "info";
  timeout: "20s" | "15s";
  neighbour: "none" | "before" | "after";
}
const INITIAL_LAYOUT: Layout = { form: "json", reversed: false, level: "warn", timeout: "20s", neighbour: "none" };

type Edit =
  | { kind: "set"; field: keyof Settings; value: unknown }
  | { kind: "rotate"; file: SecretFile; secret: string; by: "rewrite" | "rename" }
  | { kind: "layout"; layout: Partial<Layout> };

const setEdit: fc.Arbitrary<Edit> = fc.constantFrom(...(Object.keys(VALUES) as Array<keyof Settings>))
  .chain((field) => fc.constantFrom(...VALUES[field]).map((value): Edit => ({ kind: "set", field, value })));
// Secrets of 12 characters: a rotation often keeps the file's size.
const rotateEdit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constant("rotate" as const),
  file: fc.constantFrom(...SECRET_FILES),
  secret: fc.oneof(fc.stringMatching(/^[A-Za-z0-9]{12}$/), fc.stringMatching(/^[A-Za-z0-9]{4,24}$/)),
  by: fc.constantFrom("rewrite" as const, "rename" as const),
});
const layoutEdit: fc.Arbitrary<Edit> = fc.record({
  form: fc.constantFrom("json" as const, "yaml" as const),
  reversed: fc.boolean(),
  level: fc.constantFrom("warn" as const, "error" as const, "info" as const),
  timeout: fc.constantFrom("20s" as const, "15s" as const),
  neighbour: fc.constantFrom("none" as const, "before" as const, "after" as const),
}, { requiredKeys: [] }).map((layout): Edit => ({ kind: "layout", layout }));

const editsArbitrary = fc.array(fc.oneof(setEdit, rotateEdit, layoutEdit), { minLength: 1, maxLength: 5 });

interface Credential {
  username: string;
  password: string;
}

/** One case: a fresh directory and cache, the initial config, then an exec after every edit. */
async function runCase(edits: Edit[], servers: [OAuthServer, OAuthServer], dir: string, exec: (config: string) => Promise<Credential>): Promise<void> {
  const config = path.join(dir, "config");
  let settings = { ...INITIAL };
  let layout = { ...INITIAL_LAYOUT };
  // What each secret file holds, and how many times it was written: every write is a new version.
  const files = Object.fromEntries(SECRET_FILES.map((name, i) => [name, { secret: `initial-${i}-secret`, version: 0 }])) as Record<SecretFile, { secret: string; version: number }>;
  for (const name of SECRET_FILES) fs.writeFileSync(path.join(dir, name), `${files[name].secret}\n`);
  /** The credential fetched under each settings and secret file version: what a hit must answer. */
  const fetched = new Map<string, Credential>();
  const history: string[] = [];
  const requests = () => servers[0].requests.length + servers[1].requests.length;

  for (const edit of [undefined, ...edits]) {
    if (edit?.kind === "set") settings = { ...settings, [edit.field]: edit.value };
    if (edit?.kind === "layout") layout = { ...layout, ...edit.layout };
    if (edit?.kind === "rotate") rotate(dir, edit, files[edit.file]);
    history.push(edit ? JSON.stringify(edit) : "initial");
    writeConfig(config, dir, settings, layout, servers);
    const secret = files[settings.clientSecretFile];
    for (const server of servers) server.expect = expectation(settings, secret.secret);
    const state = JSON.stringify([settings.endpoint, settings.clientId, settings.clientSecretFile, settings.username, settings.scope, settings.matchImages, settings.audience, secret.version]);
    const server = servers[settings.endpoint === 1 ? 1 : 0];
    const [before, total] = [server.requests.length, requests()];
    const answer = await exec(config);
    const where = `after ${history.join(", ")}`;
    const cached = fetched.get(state);
    if (cached) {
      assert.equal(requests(), total, `a hit was expected (nothing the provider is configured with changed), but the endpoint was asked ${where}`);
      assert.deepEqual(answer, cached, `the hit answers what was fetched under these settings ${where}`);
    } else {
      assert.equal(server.requests.length, before + 1, `a miss was expected (the settings or the secret file changed): the endpoint the config names was not asked ${where}`);
      assert.equal(requests(), total + 1, `one request ${where}`);
      assert.deepEqual(answer, { username: settings.username, password: server.issued.at(-1) }, `the miss answers what the endpoint issued ${where}`);
      fetched.set(state, answer);
    }
  }
}

function rotate(dir: string, edit: Extract<Edit, { kind: "rotate" }>, file: { secret: string; version: number }): void {
  const target = path.join(dir, edit.file);
  if (edit.by === "rewrite") {
    // A limit of what a file's identity can see: on kernels before 6.13 (coarse timestamps), a
    // same-size rewrite within one clock tick of the file's previous write looks unchanged. An
    // operator's rotations are not milliseconds apart; these execs may be, so the rewrite's mtime is
    // set a second past the previous one, as a later rotation's would be, instead of waiting for it.
    const previous = fs.statSync(target).mtime;
    fs.writeFileSync(target, `${edit.secret}\n`);
    fs.utimesSync(target, previous, new Date(previous.getTime() + 1000));
  } else {
    fs.writeFileSync(`${target}.next`, `${edit.secret}\n`);
    fs.renameSync(`${target}.next`, target);
  }
  file.secret = edit.secret;
  file.version++;
}

function expectation(settings: Settings, secret: string): OAuthExpectation {
  const scope = settings.scope === undefined ? [] : [typeof settings.scope === "string" ? settings.scope : settings.scope.join(" ")];
  return { clientAuth: "basic", clientId: settings.clientId, clientSecret: secret, fields: { grant_type: ["client_credentials"], ...(scope.length ? { scope } : {}) } };
}

function writeConfig(file: string, dir: string, settings: Settings, layout: Layout, servers: [OAuthServer, OAuthServer]): void {
  const entry: Record<string, unknown> = {
    name: "idp", type: "oauth2", matchImages: settings.matchImages,
    tokenUrl: settings.endpoint === 2 ? `${servers[0].url}?tenant=b` : servers[settings.endpoint].url,
    grant: "client_credentials", username: settings.username, clientId: settings.clientId, clientSecretFile: settings.clientSecretFile,
    ...(settings.scope !== undefined ? { scope: settings.scope } : {}),
    ...(settings.audience !== undefined ? { tokenAttributes: { serviceAccountTokenAudience: settings.audience, cacheType: "ServiceAccount", requireServiceAccount: false } } : {}),
  };
  const neighbour = { name: "neighbour", type: "token", matchImages: ["other.prop.test"], username: "n", secretFile: "secret-b" };
  const ordered = layout.reversed ? Object.fromEntries(Object.entries(entry).reverse()) : entry;
  const providers = layout.neighbour === "before" ? [neighbour, ordered] : layout.neighbour === "after" ? [ordered, neighbour] : [ordered];
  const document = {
    apiVersion: "credmux/v1alpha1", kind: "Config", defaults: { timeout: layout.timeout },
    cache: { dir: path.join(dir, "cache") }, log: { level: layout.level }, providers,
  };
  // JSON is YAML too; the comment makes it a YAML file to credmux.
  fs.writeFileSync(file, layout.form === "json" ? JSON.stringify(document) : `# rewritten\n${JSON.stringify(document, null, 2)}\n`);
}

async function startServers(): Promise<[OAuthServer, OAuthServer]> {
  const initial = expectation(INITIAL, "initial-0-secret");
  return [await startOAuthServer(initial), await startOAuthServer(initial)];
}

test("in process: a config change between execs is a miss exactly when it changes the provider's settings or its secret file", async (t) => {
  const servers = await startServers();
  const root = tempDir();
  const logFd = fs.openSync(path.join(root, "stderr.log"), "a");
  after(() => fs.closeSync(logFd));
  let id = 0;
  await checkProperty(t, fc.asyncProperty(editsArbitrary, async (edits) => {
    const dir = path.join(root, String(id++));
    fs.mkdirSync(dir);
    await runCase(edits, servers, dir, async (config) => {
      let stdout = "";
      let stderr = "";
      const status = await runCli(["--config", config], {
        readStdin: async () => STDIN, stdinIsTerminal: false, writeStdout: (text) => { stdout += text; }, writeStderr: (text) => { stderr += text; },
        env: {}, cwd: dir, now: Date.now, logFd,
      });
      assert.equal(status, 0, stderr);
      return JSON.parse(stdout).auth[REGISTRY] as Credential;
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }), { numRuns: 100 });
});

test("through the bundle: a config change between execs is a miss exactly when it changes the provider's settings or its secret file", async (t) => {
  const servers = await startServers();
  const root = tempDir();
  let id = 0;
  await checkProperty(t, fc.asyncProperty(editsArbitrary, async (edits) => {
    const dir = path.join(root, String(id++));
    fs.mkdirSync(dir);
    await runCase(edits, servers, dir, async (config) => {
      const run = await runBundle(["--config", config], { stdin: STDIN });
      assert.equal(run.status, 0, run.stderr);
      return JSON.parse(run.stdout).auth[REGISTRY] as Credential;
    });
    fs.rmSync(dir, { recursive: true, force: true });
  }), { numRuns: 8 });
});

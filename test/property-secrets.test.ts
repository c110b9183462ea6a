// No secret reaches stderr or the log file: generated secrets through every provider that exists
// (dockercfg files in every format, an external module that holds a token and logs and fails
// quoting it, the service-account token, the on-disk cache), at every log level, with
// onFailure error and empty, on success and on every failure path. In process through runCli for
// volume, and through the built bundle.
//
// A provider type joins with one entry in SCENARIOS: the ways it can be made to hold the secret,
// succeed and fail.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as fc from "fast-check";
import { lastLine } from "../src/provider-kit/child-process.js";
import { runCli, type CliIo } from "../src/cli.js";
import { SecretSet } from "../src/secrets.js";
import { StderrTail } from "../src/provider-kit/stderr-tail.js";
import { credential as credentialArbitrary, jsonEscapedSecret, secret as secretArbitrary, secretForms } from "./helpers/arbitraries.js";
import { FIXTURES } from "./helpers/paths.js";
import { checkProperty } from "./helpers/property.js";
import { startFaultServer, type Fault, type FaultServer } from "./helpers/fault-server.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir } from "./helpers/temp.js";

const SECRET_PROVIDER = path.join(FIXTURES, "faults", "secret-provider.js");
const SCRIPTED = path.join(FIXTURES, "providers", "scripted-provider.js");
const V1 = "credentialprovider.kubelet.k8s.io/v1";
const LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
const IMAGE = "reg.test/team/app";

/** What one generated run holds: the secrets in play and the usernames they pair with. */
interface Held {
  secret: string;
  username: string;
  /** The service-account token of the request. */
  saToken: string;
}

interface Scenario {
  name: string;
  /** The exit status with onFailure: error (with empty, every failure exits 0). */
  exit: 0 | 1;
  /** The provider's config entry, minus name and matchImages; files it needs are written into dir. */
  entry(held: Held, dir: string): Record<string, unknown>;
  matchImages?: string[];
  /** Variables the exec's environment needs (the kubelet's environment). */
  env?(held: Held): Record<string, string>;
}

/** A JWT whose claims carry the secret, expired or not: what token files and token endpoints hand out. */
function jwtOf(secret: string, expired: boolean): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const exp = Math.floor(Date.now() / 1000) + (expired ? -3600 : 3600);
  return `${part({ alg: "RS256", typ: "JWT" })}.${part({ sub: secret, exp })}.${Buffer.from(secret).toString("base64url")}`;
}

/** The loopback token endpoint of the current test, for providers that fetch their secret over HTTP. */
let endpoint: FaultServer | undefined;
let route = 0;

/** A route on the current test's endpoint answering with fault. */
function routeTo(fault: Fault): string {
  if (!endpoint) throw new Error("the test must start the token endpoint first (useEndpoint)");
  return endpoint.route(`/oauth-${route++}`, fault);
}

/** Starts the token endpoint for the test that calls it. */
async function useEndpoint(): Promise<void> {
  endpoint = await startFaultServer();
}

const oauth2 = (h: Held, dir: string, tokenUrl: string, extra: object = {}) => {
  return { type: "oauth2", tokenUrl, grant: "client_credentials", username: "oauth2", clientId: "credmux", clientSecretFile: writeText(dir, "client-secret", `${h.secret}-client\n`), ...extra };
};
const SA_ATTRIBUTES = (cacheType: string) => ({ serviceAccountTokenAudience: "reg.test", cacheType, requireServiceAccount: true });

const b64 = (text: string) => Buffer.from(text).toString("base64");

function writeJson(dir: string, name: string, document: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify(document));
  return file;
}

const dockercfg = (files: string[]) => ({ type: "dockercfg", files });

function writeText(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Per provider type, the ways it holds a secret and answers or fails with it. */
const SCENARIOS: Record<string, Scenario[]> = {
  dockercfg: [
    { name: "auth field", exit: 0, entry: (h, dir) => dockercfg([writeJson(dir, "auth.json", { auths: { "reg.test": { auth: b64(`${h.username}:${h.secret}`) } } })]) },
    { name: "username and password", exit: 0, entry: (h, dir) => dockercfg([writeJson(dir, "plain.json", { auths: { "https://reg.test/v2/": { username: h.username, password: h.secret } } })]) },
    { name: "legacy .dockercfg", exit: 0, entry: (h, dir) => dockercfg([writeJson(dir, ".dockercfg", { "reg.test": { auth: b64(`${h.username}:${h.secret}`), email: "x@reg.test" } })]) },
    { name: "identity token only (skipped)", exit: 0, entry: (h, dir) => dockercfg([writeJson(dir, "identity.json", { auths: { "reg.test": { identitytoken: h.secret, auth: b64(`<token>:${h.secret}`) } } })]) },
    {
      name: "a key broader than matchImages, dropped with a warning", exit: 0, matchImages: ["reg.test/team"],
      entry: (h, dir) => dockercfg([writeJson(dir, "broad.json", { auths: { "reg.test": { auth: b64(`${h.username}:${h.secret}`) }, "reg.test/team": { username: h.username, password: `${h.secret}-team` } } })]),
    },
    { name: "auth that is not base64", exit: 1, entry: (h, dir) => dockercfg([writeJson(dir, "bad64.json", { auths: { "reg.test": { auth: `${h.secret}!` } } })]) },
    { name: "auth without a colon", exit: 1, entry: (h, dir) => dockercfg([writeJson(dir, "nocolon.json", { auths: { "reg.test": { auth: b64(h.secret.replaceAll(":", "")) } } })]) },
    { name: "password of the wrong type", exit: 1, entry: (h, dir) => dockercfg([writeJson(dir, "type.json", { auths: { "reg.test": { username: h.username, password: [h.secret] } } })]) },
    {
      name: "a good entry, then a broken one", exit: 1,
      entry: (h, dir) => dockercfg([writeJson(dir, "mixed.json", { auths: { "reg.test": { auth: b64(`${h.username}:${h.secret}`) }, "other.test": { auth: 42 } } })]),
    },
    { name: "a listed file that is missing, after a good one", exit: 1, entry: (h, dir) => dockercfg([writeJson(dir, "good.json", { auths: { "reg.test": { password: h.secret, username: h.username } } }), path.join(dir, "missing.json")]) },
  ],
  token: [
    { name: "token from a file", exit: 0, entry: (h, dir) => ({ type: "token", username: h.username, secretFile: writeText(dir, "token", `${h.secret}\n`) }) },
    { name: "token from the environment", exit: 0, entry: (h) => ({ type: "token", username: h.username, secretEnv: "REGISTRY_TOKEN" }), env: (h) => ({ REGISTRY_TOKEN: h.secret }) },
    { name: "a JWT token, still valid", exit: 0, entry: (h, dir) => ({ type: "token", username: h.username, secretFile: writeText(dir, "jwt", jwtOf(h.secret, false)) }) },
    { name: "an expired JWT token", exit: 1, entry: (h, dir) => ({ type: "token", username: h.username, secretFile: writeText(dir, "jwt", jwtOf(h.secret, true)) }) },
    { name: "an unset variable", exit: 1, entry: (h) => ({ type: "token", username: h.username, secretEnv: "NOT_SET_ANYWHERE" }) },
  ],
  oauth2: [
    {
      name: "oauth2: an access token issued", exit: 0,
      entry: (h, dir) => oauth2(h, dir, routeTo({ kind: "json", body: { access_token: h.secret, token_type: "Bearer", expires_in: 3600 } })),
    },
    {
      name: "oauth2: a JWT access token without expires_in", exit: 0,
      entry: (h, dir) => oauth2(h, dir, routeTo({ kind: "json", body: { access_token: jwtOf(h.secret, false), token_type: "Bearer" } })),
    },
    {
      name: "oauth2: the endpoint refuses, quoting the client secret", exit: 1,
      entry: (h, dir) => oauth2(h, dir, routeTo({ kind: "json", status: 401, body: { error: "invalid_client", error_description: `client secret ${h.secret}-client is not valid` } })),
    },
    {
      // Retry-After: 0, so that the provider's three attempts cost no backoff across thousands of runs.
      name: "oauth2: the endpoint fails with 503, after retries", exit: 1,
      entry: (h, dir) => oauth2(h, dir, routeTo({ kind: "status", status: 503, retryAfter: "0", body: `overloaded while checking ${h.secret}-client` })),
    },
    {
      name: "oauth2: a token exchange refused, quoting the service-account token", exit: 1,
      entry: (h, dir) => ({
        ...oauth2(h, dir, routeTo({ kind: "json", status: 400, body: { error: "invalid_grant", error_description: `subject token ${h.saToken} is not trusted` } }), { grant: "token_exchange", audience: "reg.test" }),
        tokenAttributes: SA_ATTRIBUTES("ServiceAccount"),
      }),
    },
  ],
  module: [
    ...["answer", "log-and-answer", "fail-quoting", "fail-with-cause", "fail-non-error", "log-and-fail"].map((mode): Scenario => ({
      name: `a token-holding module: ${mode}`,
      exit: mode.includes("fail") ? 1 : 0,
      entry: (h) => ({ type: "module", module: SECRET_PROVIDER, secret: h.secret, username: h.username, mode }),
    })),
    {
      name: "a module answering the service-account token (cacheType Token)", exit: 0,
      entry: () => ({ type: "module", module: SCRIPTED, echoToken: true, tokenAttributes: SA_ATTRIBUTES("Token") }),
    },
    {
      name: "a module failing with the service-account token in its message", exit: 1,
      entry: (h) => ({ type: "module", module: SCRIPTED, fail: `token ${h.saToken} was refused`, tokenAttributes: SA_ATTRIBUTES("ServiceAccount") }),
    },
    {
      name: "a module returning the service-account token without cacheType Token (refused)", exit: 1,
      entry: () => ({ type: "module", module: SCRIPTED, echoToken: true, tokenAttributes: SA_ATTRIBUTES("ServiceAccount") }),
    },
  ],
};

const ALL_SCENARIOS = Object.entries(SCENARIOS).flatMap(([type, scenarios]) => scenarios.map((scenario) => ({ type, ...scenario })));

interface Case {
  held: Held;
  scenarios: typeof ALL_SCENARIOS;
  level: (typeof LEVELS)[number];
  levelFrom: "config" | "env" | "flag";
  onFailure: "error" | "empty";
  cached: boolean;
  /** More forms of the secrets that must not show, for cases that transform them. */
  extraForms?: string[];
}

const caseArbitrary: fc.Arbitrary<Case> = fc.record({
  // Distinct secrets: a provider answering the service-account token as a password is a case of its own.
  held: fc.record({ secret: secretArbitrary, username: credentialArbitrary.map((c) => c.username), saToken: secretArbitrary.map((token) => `sa-${token}`) }),
  // Two providers at most, both matching: a failure of one with the other's secret already held.
  scenarios: fc.array(fc.constantFrom(...ALL_SCENARIOS), { minLength: 1, maxLength: 2 }),
  level: fc.constantFrom(...LEVELS),
  levelFrom: fc.constantFrom("config", "env", "flag"),
  onFailure: fc.constantFrom("error", "empty"),
  cached: fc.boolean(),
});

interface Prepared {
  config: string;
  logFile: string;
  args: string[];
  env: Record<string, string>;
  stdin: string;
  exit: number;
  forms: string[];
}

/** Writes the case's config and files into dir; says what must and must not come out. */
function prepare(c: Case, dir: string): Prepared {
  const logFile = path.join(dir, "credmux.log");
  const providers = c.scenarios.map((scenario, i) => {
    const own = path.join(dir, `p${i}`);
    fs.mkdirSync(own, { recursive: true });
    return { name: `p${i}`, matchImages: scenario.matchImages ?? ["reg.test"], ...scenario.entry(c.held, own) };
  });
  const config = path.join(dir, "config.json");
  fs.writeFileSync(config, JSON.stringify({
    apiVersion: "credmux/v1alpha1",
    kind: "Config",
    onFailure: c.onFailure,
    cache: { dir: c.cached ? path.join(dir, "cache") : "" },
    log: { file: logFile, ...(c.levelFrom === "config" ? { level: c.level } : {}) },
    providers,
  }));
  const failing = c.scenarios.some((scenario) => scenario.exit === 1);
  const { secret, username, saToken } = c.held;
  return {
    config,
    logFile,
    args: ["--config", config, ...(c.levelFrom === "flag" ? ["--log-level", c.level] : [])],
    env: Object.assign(c.levelFrom === "env" ? { CREDMUX_LOG_LEVEL: c.level } : {}, ...c.scenarios.map((scenario) => scenario.env?.(c.held) ?? {})),
    stdin: JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: IMAGE, serviceAccountToken: saToken }),
    exit: failing && c.onFailure === "error" ? 1 : 0,
    forms: [
      ...secretForms(secret, username), ...secretForms(`${secret}-team`, username), ...secretForms(`${secret}-client`, "credmux"),
      ...secretForms(saToken, "sa"), ...secretForms(saToken, ""), ...secretForms(saToken, "oauth2"),
      ...secretForms(jwtOf(secret, false), username), ...secretForms(jwtOf(secret, true), username), ...secretForms(jwtOf(secret, false), "oauth2"),
      ...(c.extraForms ?? []),
    ],
  };
}

/** The checks on one run's exit status, stderr and log file. */
function checkRun(c: Case, prepared: Prepared, status: number | null, stdout: string, stderr: string, logged: string): void {
  assert.equal(status, prepared.exit, `exit status; stderr: ${stderr.slice(0, 500)}`);
  for (const form of prepared.forms) {
    assert.ok(!stderr.includes(form), `stderr shows the secret ${JSON.stringify(form)}: ${stderr.slice(0, 800)}`);
    assert.ok(!logged.includes(form), `the log file shows the secret ${JSON.stringify(form)}: ${logged.slice(0, 800)}`);
  }
  if (c.level === "debug") assert.match(stderr, /"level":"debug"/, "debug level logs, so there was something to leak");
  if (prepared.exit === 1) {
    assert.equal(stdout, "");
    assert.equal(stderr.split("\n").filter((line) => line.startsWith("credmux: ")).length, 1, "one error line");
    if (c.level !== "silent") assert.match(logged, /"level":"error"/, "the failure is recorded in the log file");
  } else {
    assert.equal(stdout.split("\n").length, 2, "one response line");
  }
}

/** Runs cases in this process through runCli, the plugin's whole path, with a log fd read back per run. */
function inProcessRunner(dir: string): (c: Case) => Promise<void> {
  // One fd for every run's log lines, read back by offset: pino keeps the fd it is given.
  const fd = fs.openSync(path.join(dir, "stderr.log"), "a+");
  after(() => fs.closeSync(fd));
  let id = 0;
  return async (c) => {
    const caseDir = path.join(dir, String(id++));
    fs.mkdirSync(caseDir);
    const prepared = prepare(c, caseDir);
    // With the cache, twice: the second run answers from the disk (or fails past it the same way).
    for (let round = 0; round < (c.cached ? 2 : 1); round++) {
      let stdout = "";
      let errorLines = "";
      const offset = fs.fstatSync(fd).size;
      const io: CliIo = {
        readStdin: async () => prepared.stdin,
        stdinIsTerminal: false,
        writeStdout: (text) => { stdout += text; },
        writeStderr: (text) => { errorLines += text; },
        env: prepared.env,
        cwd: caseDir,
        now: Date.now,
        logFd: fd,
      };
      const status = await runCli(prepared.args, io);
      const buffer = Buffer.alloc(fs.fstatSync(fd).size - offset);
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      const logged = fs.existsSync(prepared.logFile) ? fs.readFileSync(prepared.logFile, "utf8") : "";
      checkRun(c, prepared, status, stdout, errorLines + buffer.toString("utf8"), logged);
    }
    fs.rmSync(caseDir, { recursive: true, force: true });
  };
}

test("in process: no secret on stderr or in the log file, for every provider, level, outcome and cache state", async (t) => {
  await useEndpoint();
  await checkProperty(t, fc.asyncProperty(caseArbitrary, inProcessRunner(tempDir())), { numRuns: 2000 });
});

// Found by this property (fixed in log.ts): a field holding an object or array was masked on its
// JSON text, where a secret containing '"' or '\\' appears escaped, so it went unmasked to stderr
// and the log file. Secrets with these characters are kept to this property, which forces the
// nested logging that showed it.
test("in process: secrets with quotes or backslashes are masked in nested log fields too", async (t) => {
  await useEndpoint();
  const leaky = caseArbitrary.chain((c) => fc.tuple(jsonEscapedSecret, fc.constantFrom("log-and-answer", "log-and-fail")).map(([secret, mode]) => ({
    ...c,
    held: { ...c.held, secret },
    level: "debug" as const,
    scenarios: [ALL_SCENARIOS.find((scenario) => scenario.name === `a token-holding module: ${mode}`)!],
  })));
  await checkProperty(t, fc.asyncProperty(leaky, inProcessRunner(tempDir())), { numRuns: 200 });
});

test("through the bundle: no secret on stderr or in the log file, for every provider, level, outcome and cache state", async (t) => {
  await useEndpoint();
  const dir = tempDir();
  let id = 0;
  const runCase = async (c: Case) => {
    const caseDir = path.join(dir, String(id++));
    fs.mkdirSync(caseDir);
    const prepared = prepare(c, caseDir);
    for (let round = 0; round < (c.cached ? 2 : 1); round++) {
      const run = await runBundle(prepared.args, { stdin: prepared.stdin, env: prepared.env });
      const logged = fs.existsSync(prepared.logFile) ? fs.readFileSync(prepared.logFile, "utf8") : "";
      checkRun(c, prepared, run.status, run.stdout, run.stderr, logged);
    }
    fs.rmSync(caseDir, { recursive: true, force: true });
  };
  // Three cases at a time: execs are the cost here, and they overlap well.
  const report = await checkProperty(t, fc.asyncProperty(fc.array(caseArbitrary, { minLength: 3, maxLength: 3 }), async (cases) => {
    await Promise.all(cases.map(runCase));
  }), { numRuns: 50 });
  t.diagnostic(`${report.numRuns * 3} generated cases, ${id} of them run to completion`);
});

// Found by this property (fixed in errors.ts and cli.ts): the stderr line was masked after its
// newlines were folded into spaces, so a secret holding a newline no longer matched and was
// printed with a space in its place.
test("in process: a secret holding a newline is masked on the stderr line too", async (t) => {
  await useEndpoint();
  const run = inProcessRunner(tempDir());
  const multiLine = fc.tuple(secretArbitrary, secretArbitrary, fc.constantFrom("\n", "\r\n")).map(([a, b, newline]) => `${a}${newline}${b}`);
  const failing = ALL_SCENARIOS.filter((scenario) => scenario.name === "a token-holding module: fail-quoting");
  await checkProperty(t, fc.asyncProperty(caseArbitrary, multiLine, async (c, secret) => {
    const folded = secret.replace(/[\r\n]+/g, " ");
    const held = { ...c.held, secret };
    await run({ ...c, held, scenarios: failing, onFailure: "error", extraForms: [folded] });
  }), { numRuns: 50 });
});

// Found by this property (fixed with errors.ts jsonSyntaxReason): a malformed docker config file's
// error quoted V8's JSON.parse message, which since Node 20 holds up to 10 characters either side
// of the error ("Unexpected token 'h', ..."password":hunter2,"... is not valid JSON"). The file was
// never parsed, so nothing knew to mask the secret.
test("through the bundle: a malformed docker config file never shows its secret on stderr or in the log file", async (t) => {
  const dir = tempDir();
  const shortSecret = fc.stringMatching(/^[a-zA-Z0-9]{4,9}$/);
  const broken = fc.tuple(shortSecret, fc.constantFrom(
    (s: string) => `{"auths":{"reg.test":{"username":"u","password":${s}}}}`,
    (s: string) => `{"auths":{"reg.test":{"username":"u","password":"${s}"x}}}`,
    (s: string) => `{"auths":{"reg.test":{"password":"${s.slice(0, 2)}"${s.slice(2)}"}}}`,
    (s: string) => `{"auths":{"reg.test":{"auth":"${b64(`u:${s}`)}" "email":"x"}}}`,
  ));
  let id = 0;
  await checkProperty(t, fc.asyncProperty(broken, async ([secret, write]) => {
    const caseDir = path.join(dir, String(id++));
    fs.mkdirSync(caseDir);
    const file = path.join(caseDir, "config.json");
    fs.writeFileSync(file, write(secret));
    const logFile = path.join(caseDir, "credmux.log");
    const config = path.join(caseDir, "credmux.json");
    fs.writeFileSync(config, JSON.stringify({ apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: "" }, log: { file: logFile, level: "debug" }, providers: [{ name: "p", matchImages: ["reg.test"], ...dockercfg([file]) }] }));
    const run = await runBundle(["--config", config], { stdin: JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: IMAGE }) });
    assert.equal(run.status, 1);
    const logged = fs.readFileSync(logFile, "utf8");
    for (const form of secretForms(secret, "u")) {
      assert.ok(!run.stderr.includes(form), `stderr shows the secret ${JSON.stringify(form)} of a malformed file: ${run.stderr.trim()}`);
      assert.ok(!logged.includes(form), `the log file shows the secret ${JSON.stringify(form)} of a malformed file`);
    }
  }), { numRuns: 30 });
});

// ---------------------------------------------------------------------------------------------
// A child's message: the secret, or a form credmux writes it in, at every offset of a long
// message, across the 300-character cut of the error line and the 16 KiB of stderr that are kept.
// Found by these properties (fixed in child-process.ts lastLine, secrets.ts and stderr-tail.ts):
// the line was cut before it was masked, so a secret across the cut showed its head; only the
// raw secret was masked, not the base64, JSON, URL or form encodings credmux sends it in.

/** Never in a secret (SECRET_CHARACTERS), so whatever else is left of a message is a leak. */
const FILLER = "#";

/** Every form of a secret credmux writes: raw, JSON (JavaScript's and Go's), URL, form body, base64 user:secret. */
function writtenForms(secret: string, username: string): string[] {
  const formEncode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2);
  const json = JSON.stringify(secret).slice(1, -1);
  return [...new Set([
    secret, json, json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`), encodeURIComponent(secret), formEncode(secret),
    b64(`${username}:${secret}`), b64(`${formEncode(username)}:${formEncode(secret)}`),
  ])];
}

/** Asserts that a child's message, as printed, is filler, masks and the cut mark only. */
function assertNothingOfTheSecret(printed: string, context: string): void {
  const rest = printed.replace(/\.\.\.$/, "").replaceAll("***", "");
  assert.ok(new RegExp(`^${FILLER}*$`).test(rest), `${context}: the printed message holds more than filler and masks: ${JSON.stringify(printed)}`);
}

interface PlacedForm {
  secret: string;
  username: string;
  /** Which of writtenForms. */
  form: number;
  /** The filler's length, and where in it the form goes. */
  length: number;
  offset: number;
}

const placedForm: fc.Arbitrary<PlacedForm> = fc.record({
  secret: fc.oneof(secretArbitrary, jsonEscapedSecret),
  username: credentialArbitrary.map((c) => c.username),
  form: fc.nat(6),
  length: fc.integer({ min: 200, max: 420 }),
  offset: fc.nat(420),
});

test("lastLine: a secret or a form of it at any offset of a long message shows nothing of itself, through the kept stderr too", async (t) => {
  await checkProperty(t, fc.property(placedForm, fc.nat(600), (p, keptShift) => {
    const secrets = new SecretSet();
    secrets.add(p.secret);
    secrets.addCredential(p.username, p.secret);
    const forms = writtenForms(p.secret, p.username);
    const form = forms[p.form % forms.length]!;
    const offset = Math.min(p.offset, p.length);
    const message = `${FILLER.repeat(offset)}${form}${FILLER.repeat(p.length - offset)}`;
    assertNothingOfTheSecret(lastLine(`starting\n${message}\n`, secrets), "the line");
    // Kept through a tail shorter than the line, which cuts it at the start: nothing, or whole lines.
    const tail = new StderrTail(Math.max(1, message.length + 1 - keptShift));
    tail.push(Buffer.from(`starting\n${message}`));
    assertNothingOfTheSecret(lastLine(tail.text(), secrets), "the kept stderr");
  }), { numRuns: 3000 });
});

const ECHO = path.join(FIXTURES, "faults", "echo-program.js");

test("through the bundle: a helper's or plugin's message with a secret or a form of it at any offset shows nothing of it", async (t) => {
  const dir = tempDir();
  let id = 0;
  const runCase = async (p: PlacedForm, child: "helper" | "plugin") => {
    const caseDir = path.join(dir, String(id++));
    fs.mkdirSync(caseDir);
    const forms = writtenForms(p.secret, p.username);
    const form = forms[p.form % forms.length]!;
    const offset = Math.min(p.offset, p.length);
    const logFile = path.join(caseDir, "credmux.log");
    // dockercfg first: its credential is the username/secret pair; the child's env holds the secret too.
    const config = writeJson(caseDir, "config.json", {
      apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: "" }, log: { file: logFile, level: "debug" },
      providers: [
        { name: "files", matchImages: ["reg.test"], ...dockercfg([writeJson(caseDir, "auth.json", { auths: { "reg.test": { username: p.username, password: p.secret } } })]) },
        child === "plugin"
          ? { name: "child", matchImages: ["reg.test"], type: "kubelet-plugin", command: ECHO, env: [{ name: "CHILD_TOKEN", value: p.secret }] }
          : { name: "child", matchImages: ["reg.test"], type: "credential-helper", helper: ECHO, env: [{ name: "CHILD_TOKEN", value: p.secret }] },
      ],
    });
    const template = `${FILLER.repeat(offset)}${form}${FILLER.repeat(p.length - offset)}`;
    const run = await runBundle(["--config", config], { stdin: JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: IMAGE }), env: { ECHO_TEMPLATE: template } });
    assert.equal(run.status, 1, run.stderr);
    const line = run.stderr.split("\n").find((text) => text.startsWith("credmux: "))!;
    const printed = /exited with status 3 for [^:]+: (.*) \(run the /.exec(line)?.[1];
    assert.ok(printed !== undefined, `the error line quotes the child: ${line}`);
    assertNothingOfTheSecret(printed, line);
    const logged = fs.readFileSync(logFile, "utf8");
    for (const shown of forms) {
      assert.ok(!run.stderr.includes(shown), `stderr shows ${JSON.stringify(shown)}`);
      assert.ok(!logged.includes(shown), `the log file shows ${JSON.stringify(shown)}`);
    }
    fs.rmSync(caseDir, { recursive: true, force: true });
  };
  await checkProperty(t, fc.asyncProperty(fc.array(fc.tuple(placedForm, fc.constantFrom("helper" as const, "plugin" as const)), { minLength: 3, maxLength: 3 }), async (cases) => {
    await Promise.all(cases.map(([p, child]) => runCase(p, child)));
  }), { numRuns: 40 });
});

// ---------------------------------------------------------------------------------------------
// A secret in the wrong place of the config: every option position of every provider type here,
// and the top level, holding a value of the wrong type made of the secret. Found by this property
// (fixed in config.ts describeValue and formatPath, provider-loader.ts): an error quoted a string
// it refused (up to 40 characters), an enum's value, and a provider's invalid name.

/** Valid entries whose every field is a position the secret is put in. */
const CONFIG_BASES: Record<string, unknown>[] = [
  { apiVersion: "credmux/v1alpha1", kind: "Config", onFailure: "error", defaults: { cacheDuration: "5m", expiryMargin: "1m", timeout: "10s" }, cache: { dir: "", maxEntries: 10 }, log: { level: "warn", file: "" }, mirrors: [{ from: "docker.io", to: "reg.test/hub" }], providers: [{ name: "p", type: "ecr" }] },
  ...[
    { type: "dockercfg", files: ["a.json"] },
    { type: "token", username: "u", secretFile: "token" },
    { type: "token", username: "u", secretEnv: "TOKEN" },
    { type: "oauth2", tokenUrl: "http://127.0.0.1:9/token", grant: "client_credentials", username: "u", clientId: "c", clientSecretFile: "s", clientAuth: "body", audience: ["a"], scope: "s", resource: "r", caFile: "ca.pem" },
    { type: "oauth2", tokenUrl: "http://127.0.0.1:9/token", grant: "token_exchange", username: "u", subjectTokenFile: "t", subjectTokenType: "urn:x", requestedTokenType: "urn:y" },
    { type: "credential-helper", helper: "pass", env: [{ name: "A", value: "b" }] },
    { type: "credential-helper", dockerConfigFiles: ["config.json"], rootDir: "/var/lib/kubelet" },
    { type: "kubelet-plugin", command: "/bin/plugin", args: ["--a"], env: [{ name: "A", value: "b" }], apiVersion: "credentialprovider.kubelet.k8s.io/v1", defaultCacheDuration: "1m" },
    { type: "dockercfg", files: ["a.json"], tokenAttributes: { serviceAccountTokenAudience: "reg.test", cacheType: "Token", requireServiceAccount: true, requiredServiceAccountAnnotationKeys: ["a/b"], optionalServiceAccountAnnotationKeys: ["c/d"] } },
  ].map((provider) => ({ apiVersion: "credmux/v1alpha1", kind: "Config", providers: [{ name: "p", matchImages: ["reg.test"], ...provider }] })),
];

/** Every path to a value in a document (objects' fields, lists' items), the document's own root excepted. */
function positions(value: unknown, at: PropertyKey[] = []): PropertyKey[][] {
  const inner = Array.isArray(value) ? value.map((item, i) => positions(item, [...at, i]))
    : value !== null && typeof value === "object" ? Object.entries(value).map(([key, item]) => positions(item, [...at, key])) : [];
  return [...(at.length > 0 ? [at] : []), ...inner.flat()];
}

/** Values of another type than `like`, each holding the secret. */
function wrongTypes(like: unknown, secret: string): unknown[] {
  const all = [secret, [secret], { value: secret }, [1, secret]];
  return all.filter((value) => Array.isArray(like) ? !Array.isArray(value) || typeof like[0] !== "string"
    : typeof like === "object" && like !== null ? typeof value !== "object" || Array.isArray(value)
      : typeof like === "string" ? typeof value !== "string" : true);
}

function withValueAt(document: unknown, at: PropertyKey[], value: unknown): unknown {
  const copy = structuredClone(document) as Record<PropertyKey, unknown>;
  let parent = copy;
  for (const key of at.slice(0, -1)) parent = parent[key] as Record<PropertyKey, unknown>;
  parent[at[at.length - 1]!] = value;
  return copy;
}

const misplacedSecret = fc.nat(CONFIG_BASES.length - 1).chain((base) => {
  const paths = positions(CONFIG_BASES[base]);
  return fc.record({ base: fc.constant(base), at: fc.constantFrom(...paths), secret: secretArbitrary, variant: fc.nat(3), command: fc.constantFrom("plugin", "validate", "check") });
});

test("in process: a secret put in any config position is never quoted by the plugin, validate or check", async (t) => {
  const dir = tempDir();
  // One fd for every run's log lines, read back by offset: pino keeps the fd it is given.
  const fd = fs.openSync(path.join(dir, "stderr.log"), "a+");
  after(() => fs.closeSync(fd));
  let id = 0;
  await checkProperty(t, fc.asyncProperty(misplacedSecret, async (c) => {
    const base = CONFIG_BASES[c.base]!;
    const original = c.at.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown>)[key], base);
    const choices = wrongTypes(original, c.secret);
    const document = withValueAt(base, c.at, choices[c.variant % choices.length]);
    const caseDir = path.join(dir, String(id++));
    fs.mkdirSync(caseDir);
    const config = writeJson(caseDir, "config.json", document);
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
      readStdin: async () => JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: IMAGE }),
      stdinIsTerminal: false,
      writeStdout: (text) => { stdout += text; },
      writeStderr: (text) => { stderr += text; },
      env: {},
      cwd: caseDir,
      now: Date.now,
      logFd: fd,
    };
    const offset = fs.fstatSync(fd).size;
    const args = c.command === "plugin" ? ["--config", config] : c.command === "validate" ? ["validate", "--config", config] : ["check", IMAGE, "--config", config];
    const status = await runCli(args, io);
    const logged = Buffer.alloc(fs.fstatSync(fd).size - offset);
    fs.readSync(fd, logged, 0, logged.length, offset);
    stderr += logged.toString("utf8");
    // Mostly refused; a value some option accepts too (a string or a list for audience) runs on, to a loopback port that refuses.
    assert.ok(status === 1 || !stdout.includes(c.secret), `${c.command} with the secret at ${c.at.join(".")}`);
    // The uuid part of the secret, 8 hex digits, is what no config error text holds by chance.
    for (let start = 0; start + 8 <= c.secret.length; start++) {
      const piece = c.secret.slice(start, start + 8);
      assert.ok(!stderr.includes(piece), `${c.command} shows ${JSON.stringify(piece)} of the secret at ${c.at.join(".")}: ${stderr}`);
    }
    fs.rmSync(caseDir, { recursive: true, force: true });
  }), { numRuns: 1500 });
});

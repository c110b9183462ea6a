// The request decoder and the config loader on arbitrary input: random bytes, random text, deep
// JSON, huge strings, wrong types and prototype-pollution keys. Each either answers or throws its
// own typed error (CredmuxError, kind "request" or "config"), never anything else, and leaves
// global state as it found it: Object.prototype and the set of globals unchanged.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as fc from "fast-check";
import { loadConfig, parseDocument } from "../src/config.js";
import { Dispatcher } from "../src/dispatch.js";
import { parseGoDuration } from "../src/duration.js";
import { CredmuxError } from "../src/errors.js";
import * as z from "../src/provider-kit/schema.js";
import { normalizeImageName } from "../src/image-name.js";
import { API_VERSIONS, decodeRequest, encodeResponse } from "../src/protocol.js";
import { SecretSet } from "../src/secrets.js";
import {
  anyPattern, deepJsonText, hostileJson, hostileKey, jsonObject, jsonText, kubeletImage, POLLUTION_KEYS, randomBytesText,
} from "./helpers/arbitraries.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { FIXTURES, REPO_ROOT } from "./helpers/paths.js";
import { checkProperty } from "./helpers/property.js";
import { tempDir } from "./helpers/temp.js";

const SCRIPTED = path.join(FIXTURES, "providers", "scripted-provider.js");
const REQUEST_KIND = "CredentialProviderRequest";

// ---------------------------------------------------------------------------------------------
// Global state

interface GlobalSnapshot {
  globals: string;
  objectPrototype: string;
  arrayPrototype: string;
  functionPrototype: string;
}

function describeOwn(target: object): string {
  return Reflect.ownKeys(target).map((key) => {
    const descriptor = Object.getOwnPropertyDescriptor(target, key)!;
    return `${String(key)}:${typeof descriptor.value}:${descriptor.writable}:${descriptor.enumerable}:${typeof descriptor.get}`;
  }).sort().join(",");
}

function snapshotGlobals(): GlobalSnapshot {
  return {
    globals: Reflect.ownKeys(globalThis).map(String).sort().join(","),
    objectPrototype: describeOwn(Object.prototype),
    arrayPrototype: describeOwn(Array.prototype),
    functionPrototype: describeOwn(Function.prototype),
  };
}

// zod adds its registries to globalThis (__zod_globalConfig, __zod_globalRegistry) when it first
// initialises, which src/provider-kit/schema.ts defers to the first schema built: done here, before the snapshot.
z.string();
const BEFORE = snapshotGlobals();

/** Fails if anything was added to (or changed on) the globals or the built-in prototypes. */
function assertGlobalsUntouched(what: string): void {
  const now = snapshotGlobals();
  assert.deepEqual(now, BEFORE, `${what} changed global state`);
  const probe: Record<string, unknown> = {};
  for (const key of ["polluted", "isAdmin", "image", "apiVersion", "auth", "password"]) {
    assert.equal(probe[key], undefined, `${what} polluted Object.prototype.${key}`);
  }
}

/** Runs work; it must return, or throw a CredmuxError of the given kind and nothing else. */
function expectTypedError(kind: string, work: () => unknown): unknown {
  try {
    return work();
  } catch (error) {
    if (!(error instanceof CredmuxError)) throw new assert.AssertionError({ message: `threw ${describeThrown(error)}, not a CredmuxError` });
    assert.equal(error.kind, kind, error.message);
    assert.ok(!/[\r\n]/.test(error.toLine()), "the error is one line");
    return undefined;
  }
}

async function expectTypedRejection(kind: string, work: () => Promise<unknown>): Promise<unknown> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof CredmuxError)) throw new assert.AssertionError({ message: `threw ${describeThrown(error)}, not a CredmuxError` });
    assert.equal(error.kind, kind, error.message);
    assert.ok(!/[\r\n]/.test(error.toLine()), "the error is one line");
    return undefined;
  }
}

function describeThrown(error: unknown): string {
  return error instanceof Error ? `${error.constructor.name}: ${error.message.slice(0, 200)}` : `a ${typeof error} (${String(error).slice(0, 100)})`;
}

// ---------------------------------------------------------------------------------------------
// The request decoder

/** A value for a request field: a right one, a hostile JSON value, a huge string, or nothing. */
const fieldValue = (right: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 4, arbitrary: right },
  { weight: 2, arbitrary: hostileJson },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 1 << 16 }).map((n) => "a".repeat(n)) },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

const annotations = fc.array(fc.tuple(hostileKey, fc.oneof({ weight: 4, arbitrary: fc.string() }, { weight: 1, arbitrary: hostileJson })), { maxLength: 5 }).map(jsonObject);

/** A request-shaped document: every field right, wrong, huge or missing, plus hostile extra keys. */
const requestDocument = fc.tuple(
  fieldValue(fc.constant(REQUEST_KIND)),
  fieldValue(fc.constantFrom(...API_VERSIONS)),
  fieldValue(kubeletImage()),
  fieldValue(fc.string({ minLength: 1 })),
  fieldValue(annotations),
  fc.array(fc.tuple(hostileKey, hostileJson), { maxLength: 3 }),
).map(([kind, apiVersion, image, serviceAccountToken, serviceAccountAnnotations, extra]) => jsonObject([
  ...extra,
  ...Object.entries({ kind, apiVersion, image, serviceAccountToken, serviceAccountAnnotations }).filter(([, value]) => value !== undefined),
]));

/** Checks a decoded request: the fields the kubelet's types allow, nothing else, no prototype games. */
function checkDecoded(decoded: unknown): void {
  if (decoded === undefined) return;
  const request = decoded as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(request), Object.prototype);
  for (const key of Object.keys(request)) assert.ok(["apiVersion", "image", "serviceAccountToken", "serviceAccountAnnotations"].includes(key), key);
  assert.ok((API_VERSIONS as readonly unknown[]).includes(request.apiVersion));
  assert.ok(typeof request.image === "string" && request.image !== "");
  if (request.serviceAccountToken !== undefined) assert.equal(typeof request.serviceAccountToken, "string");
  if (request.serviceAccountAnnotations !== undefined) {
    const copy = request.serviceAccountAnnotations as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(copy), null, "annotations are copied into an object without a prototype");
    for (const value of Object.values(copy)) assert.equal(typeof value, "string");
  }
}

/** Decodes, then names the image as dispatch will: both steps may refuse the request, only with a "request" error. */
function decodeAndName(text: string): boolean {
  const decoded = expectTypedError("request", () => decodeRequest(text));
  checkDecoded(decoded);
  if (decoded !== undefined) expectTypedError("request", () => normalizeImageName((decoded as { image: string }).image));
  return decoded !== undefined;
}

test("decodeRequest: random text and random bytes give a request or a request error, and touch no global state", async (t) => {
  const text = fc.oneof(
    randomBytesText,
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(..."{}[]\":,0123456789.eE+-tfnrul \\/", "__proto__", "kind", REQUEST_KIND), maxLength: 60 }),
  );
  await checkProperty(t, fc.property(text, (input) => {
    decodeAndName(input);
    assertGlobalsUntouched("decoding random text");
  }), { numRuns: 12000 });
});

test("decodeRequest: request-shaped JSON with wrong types, huge strings and prototype-pollution keys", async (t) => {
  let decoded = 0;
  const report = await checkProperty(t, fc.property(requestDocument, (document) => {
    if (decodeAndName(jsonText(document))) decoded++;
    assertGlobalsUntouched("decoding a hostile request");
  }), { numRuns: 8000 });
  t.diagnostic(`${decoded} of ${report.numRuns} generated requests decoded`);
  assert.ok(decoded > report.numRuns / 20 && decoded < report.numRuns, `${decoded} of ${report.numRuns} decoded`);
});

test("decodeRequest: pollution attempts in the text itself leave Object.prototype alone", async (t) => {
  // Written as text, so that "__proto__" reaches JSON.parse exactly as an attacker would send it.
  const hostileField = fc.tuple(fc.constantFrom(...POLLUTION_KEYS), fc.constantFrom('{"polluted":"yes","isAdmin":true}', '{"__proto__":{"polluted":"yes"}}', '"yes"', "null", '["polluted"]'));
  const documents = fc.tuple(fc.array(hostileField, { minLength: 1, maxLength: 3 }), fc.boolean(), kubeletImage()).map(([fields, inAnnotations, image]) => {
    const hostile = fields.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(",");
    const annotations = inAnnotations ? `,"serviceAccountAnnotations":{${hostile}}` : "";
    return `{${inAnnotations ? "" : `${hostile},`}"kind":"${REQUEST_KIND}","apiVersion":"${API_VERSIONS[0]}","image":${JSON.stringify(image)},"serviceAccountToken":"tok-123"${annotations}}`;
  });
  await checkProperty(t, fc.property(documents, (text) => {
    decodeAndName(text);
    assertGlobalsUntouched("decoding a pollution attempt");
  }), { numRuns: 3000 });
});

test("decodeRequest: nesting 100,000 deep and 2 MiB strings end in a request error or a request", async (t) => {
  const inputs = fc.oneof(
    deepJsonText,
    deepJsonText.map((deep) => `{"kind":"${REQUEST_KIND}","apiVersion":"${API_VERSIONS[0]}","image":"r.test/x","extra":${deep}}`),
    deepJsonText.map((deep) => `{"kind":"${REQUEST_KIND}","apiVersion":"${API_VERSIONS[0]}","image":"r.test/x","serviceAccountToken":"t","serviceAccountAnnotations":{"a":${deep}}}`),
    fc.integer({ min: 1 << 20, max: 2 << 20 }).map((n) => `{"kind":"${REQUEST_KIND}","apiVersion":"${API_VERSIONS[0]}","image":"r.test/${"a".repeat(n)}"}`),
    fc.integer({ min: 1 << 20, max: 2 << 20 }).map((n) => `{"kind":"${REQUEST_KIND}","apiVersion":"${API_VERSIONS[0]}","image":"${"a.".repeat(n / 2)}test/x"}`),
    fc.integer({ min: 1 << 20, max: 2 << 20 }).map((n) => `{"kind":"${REQUEST_KIND}","apiVersion":"${API_VERSIONS[0]}","image":"r.test/a${"-".repeat(n)}!"}`),
  );
  await checkProperty(t, fc.property(inputs, (text) => {
    // No stack overflow, no hang: a typed request error or a checked request (the input stays
    // bounded at 100,000 levels and 2 MiB; how fast is npm run bench's business).
    decodeAndName(text);
    assertGlobalsUntouched("decoding deep or huge input");
  }), { numRuns: 150 });
});

// ---------------------------------------------------------------------------------------------
// The config loader

const scratch = (() => {
  // Thousands of small files: in memory when the machine has /dev/shm.
  if (!fs.existsSync("/dev/shm")) return tempDir();
  const dir = fs.mkdtempSync(path.join("/dev/shm", "credmux-input-"));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
})();
let fileCounter = 0;

/** Writes contents to a fresh file and loads it as a config: a Config or a "config" error, nothing else. */
async function loadWritten(contents: string | Buffer, extension = "yaml"): Promise<boolean> {
  const file = path.join(scratch, `config-${fileCounter++}.${extension}`);
  fs.writeFileSync(file, contents);
  try {
    const config = await expectTypedRejection("config", () => loadConfig(file));
    if (config !== undefined) await checkLoaded(config as Awaited<ReturnType<typeof loadConfig>>);
    return config !== undefined;
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** What a loaded config promises the rest of credmux, whatever the file held. */
async function checkLoaded(config: Awaited<ReturnType<typeof loadConfig>>): Promise<void> {
  assert.ok(config.providers.length > 0);
  for (const provider of config.providers) {
    assert.ok(provider.matchImages.length > 0 && provider.matchImages.every((pattern) => typeof pattern === "string" && pattern !== ""));
    assert.equal(typeof (await provider.definition()).create, "function");
  }
  const { timeoutMs, cacheDurationMs, expiryMarginMs } = config.defaults;
  assert.ok(timeoutMs > 0 && timeoutMs < 60_000);
  assert.ok(Number.isFinite(cacheDurationMs) && cacheDurationMs >= 0 && Number.isFinite(expiryMarginMs) && expiryMarginMs >= 0);
}

/** A Go duration string, sometimes absurd: huge numbers, fractions, signs, and text that is not one. */
const durationText = fc.oneof(
  fc.constantFrom("5m", "20s", "1h30m", "0", "0s", "2s", "59s", "1m", "-1s", "1.5h", ".5s", "1d", "", "10", "1e3s"),
  fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.constantFrom("ns", "us", "µs", "ms", "s", "m", "h")).map(([n, unit]) => `${n}${unit}`),
);

/** Mostly the right thing, sometimes the wrong one: every field of a config can be wrong, but rarely all at once. */
const mostly = <T, U>(right: fc.Arbitrary<T>, wrong: fc.Arbitrary<U>): fc.Arbitrary<T | U> =>
  fc.oneof({ weight: 12, arbitrary: right }, { weight: 1, arbitrary: wrong });

const rarely = <T>(arbitrary: fc.Arbitrary<T[]>): fc.Arbitrary<T[]> => mostly(fc.constant([] as T[]), arbitrary);

const goodDuration = fc.constantFrom("5m", "20s", "1h30m", "0s", "2s", "59s", "1.5s");

/** A config-shaped object: every field right, wrong or hostile, providers of every existing kind. */
const configObject = fc.tuple(
  mostly(fc.constant("credmux/v1alpha1"), fc.constantFrom("credmux/v1", 1, null, "__proto__")),
  mostly(fc.constant("Config"), fc.constantFrom("config", [], {})),
  fc.option(fc.record({
    cacheDuration: mostly(goodDuration, durationText),
    expiryMargin: mostly(goodDuration, durationText),
    timeout: mostly(fc.constantFrom("1s", "20s", "59s"), durationText),
  }, { requiredKeys: [] })),
  fc.option(fc.record({ dir: fc.constantFrom("", "cache", "/nonexistent/credmux"), maxEntries: mostly(fc.integer({ min: 1, max: 1e6 }), fc.oneof(fc.integer(), fc.double())) }, { requiredKeys: [] })),
  fc.option(fc.record({ level: mostly(fc.constantFrom("debug", "warn", "silent"), fc.constantFrom("loud", 3)), file: fc.constantFrom("", "credmux.log") }, { requiredKeys: [] })),
  fc.array(fc.tuple(
    mostly(fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/), hostileKey),
    mostly(fc.constantFrom("dockercfg", "module"), fc.constantFrom("unknown-type", "__proto__", "", "constructor")),
    mostly(fc.array(anyPattern, { minLength: 1, maxLength: 3 }), hostileJson),
    mostly(fc.constant(null), fc.oneof(hostileJson, fc.constant({ serviceAccountTokenAudience: "reg.test", cacheType: "Token", requireServiceAccount: true }))),
    rarely(fc.array(fc.tuple(hostileKey, hostileJson), { minLength: 1, maxLength: 2 })),
  ), { minLength: 1, maxLength: 3 }),
  rarely(fc.array(fc.tuple(hostileKey, hostileJson), { minLength: 1, maxLength: 3 })),
).map(([apiVersion, kind, defaults, cache, log, providers, extra]) => jsonObject([
  ...extra,
  ["apiVersion", apiVersion], ["kind", kind],
  ...(defaults ? [["defaults", defaults] as const] : []),
  ...(cache ? [["cache", cache] as const] : []),
  ...(log ? [["log", log] as const] : []),
  ["providers", providers.map(([name, type, matchImages, tokenAttributes, more], i) => jsonObject([
    ...more,
    ["name", typeof name === "string" && /^[a-z]/.test(name) ? `${name}${i}` : name],
    ...(type === "dockercfg" ? [["type", "dockercfg"] as const, ["files", ["cfg.json"]] as const]
      : type === "module" ? [["type", "module"] as const, ["module", SCRIPTED] as const]
        : [["type", type] as const]),
    ["matchImages", matchImages],
    ...(tokenAttributes === null ? [] : [["tokenAttributes", tokenAttributes] as const]),
  ]))],
]));

test("loadConfig: generated config objects (JSON files) give a Config or a config error, and touch no global state", async (t) => {
  let accepted = 0;
  const report = await checkProperty(t, fc.asyncProperty(configObject, async (document) => {
    if (await loadWritten(jsonText(document), "json")) accepted++;
    assertGlobalsUntouched("loading a generated config");
  }), { numRuns: 4000 });
  // Both ways through the loader are taken, or the generator has stopped reaching one of them.
  t.diagnostic(`${accepted} of ${report.numRuns} generated configs accepted`);
  assert.ok(accepted > report.numRuns / 100 && accepted < report.numRuns, `${accepted} of ${report.numRuns} accepted`);
});

test("parseDocument: JSON text with pollution keys, deep nesting and huge strings parses or gives a config error", async (t) => {
  const texts = fc.oneof(
    hostileJson.map(jsonText),
    // Deep arrays are YAML to parseDocument ("[" does not start a JSON object): refused by depth.
    deepJsonText,
    fc.constantFrom(...POLLUTION_KEYS).map((key) => `{"${key}":{"polluted":"yes"},"apiVersion":"credmux/v1alpha1","kind":"Config","providers":[{"${key}":{"polluted":1}}]}`),
    fc.integer({ min: 1 << 19, max: 1 << 21 }).map((n) => `{"apiVersion":"${"v".repeat(n)}"}`),
  );
  await checkProperty(t, fc.property(texts, (text) => {
    expectTypedError("config", () => parseDocument(text, "generated.json"));
    assertGlobalsUntouched("parsing a hostile JSON config");
  }), { numRuns: 1500 });
});

// Found by this property (fixed in parseDocument): YAML aliases escaped yaml's toJS() as
// ReferenceError, an alias without its anchor ("*a") as "Unresolved alias" and an alias bomb as
// "Excessive alias count", and the CLI printed "credmux: ReferenceError: ..." without the file.
test("loadConfig: any text or bytes as a config file give a Config or a config error, and touch no global state", async (t) => {
  const yamlish = fc.string({ unit: fc.constantFrom(..."abk: -[]{}&*!|>'\"#%@`,?\n\t 01.", "apiVersion: credmux/v1alpha1\n", "kind: Config\n", "providers:\n", "  - ", "__proto__: ", "<<: "), maxLength: 40 });
  const contents = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
    fc.string({ unit: "binary", maxLength: 200 }),
    yamlish,
  );
  await checkProperty(t, fc.asyncProperty(contents, async (text) => {
    await loadWritten(text);
    assertGlobalsUntouched("loading arbitrary text as a config");
  }), { numRuns: 2500 });
});

// Found by the parseDocument property (fixed by refusing deep nesting before yaml sees it): with
// yaml 2.9.1 on Node 20 the first YAML document 2,000 levels deep was refused properly, but a second
// one in the same process aborted it ("FATAL ERROR: RegExpCompiler Allocation failed - process out
// of memory"). A kubelet exec parses one config; `check`, a library caller or a test may parse more.
// Run in a child process, so that an abort cannot take this file's other tests down.
test("parseDocument: a deeply nested YAML config is a config error every time, never a crash", async () => {
  const config = path.join(REPO_ROOT, ".build", "src", "config.js");
  const script = `
    const { parseDocument } = require(${JSON.stringify(config)});
    for (let round = 0; round < 3; round++) {
      try { parseDocument("[".repeat(2000) + "1", "deep.yaml"); console.log("parsed"); }
      catch (error) { console.log(error.constructor.name + ": " + error.message.slice(0, 80)); }
    }`;
  const run = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 120_000 });
  assert.equal(run.signal, null, `the process was killed by ${run.signal}: ${run.stderr.split("\n").find((line) => line.includes("FATAL")) ?? run.stderr.slice(0, 300)}`);
  assert.equal(run.status, 0);
  assert.deepEqual(run.stdout.trim().split("\n").map((line) => line.split(":")[0]), ["CredmuxError", "CredmuxError", "CredmuxError"]);
});

test("loadConfig: a file over 1 MiB, a directory, a missing file, and an unreadable path are config errors", async () => {
  const huge = path.join(scratch, "huge.json");
  fs.writeFileSync(huge, `{"apiVersion":"${"v".repeat((1 << 20) + 10)}"}`);
  const cases: Array<[string, RegExp]> = [
    [huge, /larger than the 1048576-byte limit/],
    [scratch, /not a regular file/],
    [path.join(scratch, "missing.yaml"), /no such file/],
    [path.join(huge, "under-a-file.yaml"), /cannot read it \(ENOTDIR\)/],
  ];
  for (const [file, message] of cases) {
    await assert.rejects(loadConfig(file), (error: unknown) => error instanceof CredmuxError && error.kind === "config" && message.test(error.message));
  }
  assertGlobalsUntouched("loading unreadable configs");
});

// Found by this property (fixed in config.ts and duration.ts): the loader accepted durations Go
// cannot represent (beyond 2562047h47m16.854775807s) and formatGoDuration wrote them, as
// "999999999h0m0s" or, from 400 digits, "InfinityhNaNmNaNs"; the kubelet's time.ParseDuration
// rejects both, and with them the whole response.
test("every cacheDuration credmux writes is a duration Go's time.ParseDuration accepts", async (t) => {
  const GO_MAX_DURATION_MS = 9_223_372_036_854.775;
  const dir = tempDir();
  const cases = fc.record({
    cacheDuration: durationText.filter((text) => parseGoDuration(text) !== undefined && parseGoDuration(text)! >= 0),
    expiryMargin: fc.constantFrom("0s", "5m", "1h"),
    expiresInMs: fc.option(fc.oneof(fc.integer({ min: 0, max: 2 ** 31 }), fc.constantFrom(1e15, 8.64e15 - Date.now()))),
  });
  await checkProperty(t, fc.asyncProperty(cases, async ({ cacheDuration, expiryMargin, expiresInMs }) => {
    const file = path.join(dir, "config.json");
    fs.writeFileSync(file, JSON.stringify({
      apiVersion: "credmux/v1alpha1", kind: "Config", cache: { dir: "" }, defaults: { cacheDuration, expiryMargin },
      providers: [{ name: "p", type: "module", module: SCRIPTED, matchImages: ["reg.test"], answer: { "reg.test": { username: "u", password: "pw-1234" } }, ...(expiresInMs === null ? {} : { expiresInMs }) }],
    }));
    const config = await expectTypedRejection("config", () => loadConfig(file));
    if (config === undefined) return;
    const dispatcher = new Dispatcher(config as Awaited<ReturnType<typeof loadConfig>>, { log: new CaptureLog(), secrets: new SecretSet(), now: Date.now, env: {}, cwd: dir });
    const resolution = await dispatcher.resolve({ apiVersion: API_VERSIONS[0], image: "reg.test/app" });
    const written = JSON.parse(encodeResponse(resolution.response)).cacheDuration as string;
    const ms = parseGoDuration(written);
    assert.ok(ms !== undefined && Number.isFinite(ms) && ms <= GO_MAX_DURATION_MS, `cacheDuration "${written}" (config ${cacheDuration}) is not a Go duration`);
  }), { numRuns: 400 });
});

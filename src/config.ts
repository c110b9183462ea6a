// The credmux config file (DESIGN.md, "Config"): read, parsed (JSON, or YAML through the deferred
// yaml module), validated with zod/mini, and turned into the settings the run uses. Every error
// names the file, the field path, what was expected and the type of what was found: never the value,
// which may be a secret put in the wrong place.
import fs from "node:fs";
import path from "node:path";
import * as z from "./provider-kit/schema.js";
import { MAX_GO_DURATION_MS, parseGoDuration } from "./duration.js";
import { unmatchablePatternProblem } from "./unmatchable-pattern.js";
import { closestName } from "./did-you-mean.js";
import { knownFields } from "./schema-fields.js";
import { configPath, DEFAULT_CONFIG_PATHS, isJsonConfig, resolveCacheDir } from "./config-location.js";
import { ConfigSnapshots, type NotedConfig } from "./startup/config-snapshot.js";
import { CredmuxError, describeError, jsonSyntaxReason } from "./errors.js";
import { parseGoURL } from "./go-url.js";
import { loadDeferred } from "./startup/deferred.js";
import { LOG_LEVELS, type LogLevel } from "./log.js";
import type { ProviderDefinition, SchemaIssue } from "./provider.js";
import { loadProviderDefinition } from "./provider-loader.js";
import { providerOptionsSchema } from "./provider-options.js";

export const CONFIG_API_VERSION = "credmux/v1alpha1";
const MAX_CONFIG_BYTES = 1 << 20;
const KUBELET_PLUGIN_TIMEOUT_MS = 60_000;

export interface TokenAttributes {
  serviceAccountTokenAudience: string;
  cacheType: "ServiceAccount" | "Token";
  requireServiceAccount: boolean;
  requiredServiceAccountAnnotationKeys?: string[];
  optionalServiceAccountAnnotationKeys?: string[];
}

export interface ProviderConfig {
  name: string;
  type: string;
  matchImages: string[];
  tokenAttributes?: TokenAttributes;
  /** For type module: the module's file, resolved against the config's directory. */
  module?: string;
  /** The provider's own fields, validated by its definition's schema. */
  options: unknown;
  /** Whether its answers go through the credential cache (the definition's cacheable). */
  cacheable: boolean;
  /**
   * Its definition: loaded while validating, or for a config noted as valid (config-snapshot.ts)
   * when a request first needs the provider, so that an answer from the credential cache never loads it.
   */
  definition(): Promise<ProviderDefinition<unknown>>;
}

export interface MirrorRule {
  from: string;
  to: string;
}

export interface Config {
  path: string;
  dir: string;
  defaults: { cacheDurationMs: number; expiryMarginMs: number; timeoutMs: number };
  onFailure: "error" | "empty";
  cache: { dir: string; maxEntries: number };
  log: { level?: LogLevel; file: string };
  mirrors: MirrorRule[];
  providers: ProviderConfig[];
}

/** The fields every provider entry has; the rest belongs to the provider type. */
const COMMON_PROVIDER_FIELDS = ["name", "type", "matchImages", "tokenAttributes"] as const;
const PROVIDER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

// Built on first use: building zod schemas is most of what validating costs, and an exec whose
// config was validated before (config-snapshot.ts) does neither.
let schemas: ReturnType<typeof buildSchemas> | undefined;

export function buildSchemas() {
  const goDuration = (what: string) =>
    z.string().check(z.refine((text) => {
      const ms = parseGoDuration(text);
      return ms !== undefined && ms >= 0 && ms <= MAX_GO_DURATION_MS;
    }, {
      message: `expected ${what} as a Go duration such as "30s", "5m" or "1h30m", at most 2562047h (Go's limit)`,
    }));

  const nonEmpty = z.string().check(z.minLength(1));

  const parsablePattern = nonEmpty.check(z.refine((pattern) => parseGoURL(`https://${pattern}`) !== undefined, {
    message: "expected a kubelet matchImages pattern (host[:port][/path], `*` within host labels); the kubelet cannot parse this one",
  }));
  // Patterns matched against the names the kubelet sends; a mirror's `to` is matched against names credmux makes.
  const matchImagePattern = parsablePattern.check(z.superRefine((pattern, ctx) => {
    const problem = unmatchablePatternProblem(pattern);
    if (problem) ctx.addIssue({ code: "custom", message: `never matches an image: it ${problem}`, input: undefined });
  }));

  const tokenAttributesSchema = z.strictObject({
    serviceAccountTokenAudience: nonEmpty,
    cacheType: z.enum(["ServiceAccount", "Token"]),
    requireServiceAccount: z.boolean(),
    requiredServiceAccountAnnotationKeys: z.optional(z.array(nonEmpty)),
    optionalServiceAccountAnnotationKeys: z.optional(z.array(nonEmpty)),
  });

  const providerCommonSchema = z.looseObject({
    name: nonEmpty.check(z.regex(PROVIDER_NAME, {
      message: "expected a name of letters, digits, '.', '_' and '-' (at most 63), starting with a letter or digit",
    })),
    type: nonEmpty,
    matchImages: z.optional(z.array(matchImagePattern).check(z.minLength(1))),
    tokenAttributes: z.optional(tokenAttributesSchema),
  });

  const fileSchema = z.strictObject({
    apiVersion: z.literal(CONFIG_API_VERSION),
    kind: z.literal("Config"),
    defaults: z.optional(z.strictObject({
      cacheDuration: z.optional(goDuration("the cache lifetime of credentials without a known expiry")),
      expiryMargin: z.optional(goDuration("the margin kept before a credential's expiry")),
      timeout: z.optional(goDuration("the deadline for one kubelet exec")),
    })),
    onFailure: z.optional(z.enum(["error", "empty"])),
    cache: z.optional(z.strictObject({
      dir: z.optional(z.string()),
      maxEntries: z.optional(z.int().check(z.minimum(1))),
    })),
    log: z.optional(z.strictObject({
      level: z.optional(z.enum(LOG_LEVELS)),
      file: z.optional(z.string()),
    })),
    mirrors: z.optional(z.array(z.strictObject({
      from: matchImagePattern,
      to: parsablePattern.check(z.refine((to) => !to.includes("*"), { message: "expected the mirror's registry and path, without '*'" })),
    }))),
    providers: z.array(z.looseObject({})).check(z.minLength(1)),
  });

  return { fileSchema, providerCommonSchema };
}

export { configPath, DEFAULT_CONFIG_PATHS };

function configError(file: string, reason: string, hint?: string): CredmuxError {
  return new CredmuxError("config", `config ${file}: ${reason}`, hint);
}

export interface LoadOptions {
  /**
   * The running build's id (boot.ts), to skip validating a config text this build noted as valid
   * in the config's cache.dir (config-snapshot.ts), and to note it after validating. The kubelet
   * plugin's runs only: every other command validates.
   */
  snapshotBuildId?: string;
  /** Called when the config was validated and noted: the next runs will not validate it. */
  onNoted?: () => void;
}

/** Reads, parses and validates the config file, loading each provider's definition. */
export async function loadConfig(file: string, cwd: string = process.cwd(), options: LoadOptions = {}): Promise<Config> {
  const absolute = path.resolve(cwd, file);
  const raw = readConfigFile(absolute, file);
  const document = parseDocument(raw, file);
  const snapshots = options.snapshotBuildId ? configSnapshots(document, path.dirname(absolute), options.snapshotBuildId) : undefined;
  const noted = snapshots?.read(absolute, raw);
  if (noted) {
    try {
      return await configFromNote(noted, document, absolute, file);
    } catch {
      // An error the note hid (an operator's module refusing its options, or a note that does not
      // fit its text): validating again reports it as it would have been without the note.
    }
  }
  const config = await validateConfig(document, absolute, file);
  if (snapshots?.record(absolute, raw, notedForm(config))) options.onNoted?.();
  return config;
}

/** What a note keeps of a validated Config (config-snapshot.ts): a module provider by name only, since its code may change under the same text. */
function notedForm(config: Config): NotedConfig {
  const { defaults, onFailure, cache, log, mirrors } = config;
  const providers = config.providers.map(({ definition: _, ...provider }) => (provider.type === "module" ? { name: provider.name, type: "module" as const } : provider));
  return { defaults, onFailure, cache, log, mirrors, providers };
}

/**
 * The Config a note holds for this very text, without a schema: a built-in provider's definition
 * is loaded when a request first needs it, and an operator's module provider is resolved again from
 * its entry (loaded, its options checked), as its code is not part of the build.
 */
async function configFromNote(noted: NotedConfig, document: unknown, absolute: string, shown: string): Promise<Config> {
  const dir = path.dirname(absolute);
  const entries = (document as ConfigFile).providers;
  if (noted.providers.length !== entries.length) throw new Error("the note does not fit its config");
  const providers: ProviderConfig[] = [];
  for (const [index, provider] of noted.providers.entries()) {
    const entry = entries[index]!;
    if (provider.name !== entry.name || provider.type !== entry.type) throw new Error("the note does not fit its config");
    const at = ["providers", index];
    if (provider.type === "module") {
      providers.push(await resolveProvider(entry as ProviderCommon, entry, at, { document, dir, shown }));
    } else {
      let loading: Promise<ProviderDefinition<unknown>> | undefined;
      const where = () => ({ dir, shown, at: formatPath(at, document) });
      providers.push({ ...provider as Omit<ProviderConfig, "definition">, definition: () => (loading ??= loadProviderDefinition(provider.type, {}, where())) });
    }
  }
  const { defaults, onFailure, cache, log, mirrors } = noted;
  return { path: absolute, dir, defaults, onFailure, cache, log, mirrors, providers };
}

/** The notes of the cache directory the (not yet validated) document names; none for "" or a cache.dir of the wrong type. */
function configSnapshots(document: unknown, configDir: string, buildId: string): ConfigSnapshots | undefined {
  const dir = (document as { cache?: { dir?: unknown } } | null)?.cache?.dir;
  if (dir !== undefined && typeof dir !== "string") return undefined;
  const resolved = resolveCacheDir(dir, configDir);
  return resolved ? new ConfigSnapshots(resolved, buildId) : undefined;
}

function readConfigFile(absolute: string, shown: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") {
      throw configError(shown, "no such file", `pass --config or set CREDMUX_CONFIG to the credmux config file; without either, credmux reads the first of ${DEFAULT_CONFIG_PATHS.join(" and ")} that exists`);
    }
    throw configError(shown, `cannot read it (${code ?? (error as Error).message})`);
  }
  if (!stat.isFile()) throw configError(shown, "not a regular file");
  if (stat.size > MAX_CONFIG_BYTES) throw configError(shown, `file is ${stat.size} bytes, larger than the ${MAX_CONFIG_BYTES}-byte limit`);
  try {
    return fs.readFileSync(absolute, "utf8");
  } catch (error) {
    throw configError(shown, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** JSON when the file is a JSON object (the fast path), else YAML. */
export function parseDocument(text: string, shown: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  if (isJsonConfig(body)) {
    try {
      return JSON.parse(body);
    } catch (error) {
      throw configError(shown, `malformed JSON (${jsonSyntaxReason(error)})`);
    }
  }
  // yaml recurses per level, and a second very deep document in one process can abort V8: no real
  // config nests anywhere near this, so it is refused before yaml sees it.
  const depth = nestingDepth(body);
  if (depth > MAX_YAML_DEPTH) throw configError(shown, `malformed YAML: nested ${depth} levels deep, more than the ${MAX_YAML_DEPTH} credmux reads`);
  const YAML = loadDeferred<typeof import("yaml")>("yaml");
  const doc = YAML.parseDocument(body, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const where = first.linePos ? `line ${first.linePos[0].line}, column ${first.linePos[0].col}: ` : "";
    // prettyErrors appends " at line L, column C:" and a source excerpt; the position is given first instead.
    const reason = first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    throw configError(shown, `malformed YAML: ${where}${withoutQuotedText(reason)}`);
  }
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // Unresolved aliases and alias bombs surface here, as plain Errors from yaml.
    throw configError(shown, `malformed YAML: ${withoutQuotedText(describeError(error).replace(/^\w*Error: /, ""))}`);
  }
}

/**
 * yaml's messages that quote the document (a tag, an alias, an escape, a directive, a block
 * header), as the words around the quote: the quoted text may be a secret in the wrong place.
 */
const YAML_QUOTING_MESSAGES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^(Expected a flow scalar value), but found: .*$/s, "$1"],
  [/^(Invalid escape sequence|Unknown directive|Unsupported YAML version|Plain value cannot start with|Unresolved plain scalar) .*$/s, "$1"],
  [/^The .* tag has no suffix$/s, "A tag has no suffix"],
  [/^(Verbatim tags aren't resolved), so .*$/s, "$1"],
  [/^Unexpected .* in ((?:flow )?(?:collection|map|sequence))$/s, "Unexpected token in $1"],
  // "Unresolved alias (...): NAME", "Unresolved tag: !NAME", "Block scalar header includes extra characters: TEXT", ...
  [/: .*$/s, ""],
];

function withoutQuotedText(message: string): string {
  for (const [pattern, replacement] of YAML_QUOTING_MESSAGES) {
    if (pattern.test(message)) return message.replace(pattern, replacement);
  }
  return message;
}

const MAX_YAML_DEPTH = 64;

/** The deepest nesting of flow brackets or block indentation in a YAML text, roughly: enough to refuse absurd ones. */
function nestingDepth(text: string): number {
  let deepest = 0;
  let open = 0;
  for (const char of text) {
    if (char === "[" || char === "{") deepest = Math.max(deepest, ++open);
    else if ((char === "]" || char === "}") && open > 0) open--;
  }
  for (const line of text.split("\n")) {
    const indent = /^[ -]*/.exec(line)![0].length;
    deepest = Math.max(deepest, Math.floor(indent / 2));
  }
  return deepest;
}

/** The run's settings from a parsed document, validated. */
async function validateConfig(document: unknown, absolute: string, shown: string): Promise<Config> {
  const { fileSchema, providerCommonSchema } = schemas ??= buildSchemas();
  const parsed = fileSchema.safeParse(document, { reportInput: true });
  if (!parsed.success) throw configError(shown, describeIssues(parsed.error.issues, [], document, (at) => knownFields(fileSchema, at)));
  const file = parsed.data;
  const providers: ProviderConfig[] = [];
  const seen = new Map<string, number>();
  const dir = path.dirname(absolute);
  // Every provider entry is checked, and their problems reported together: an operator fixing a
  // config should not have to run validate once per mistake.
  const problems: CredmuxError[] = [];
  for (const [index, entry] of file.providers.entries()) {
    try {
      const provider = await validateProvider(entry, index, seen, providerCommonSchema, { document, dir, shown });
      providers.push(provider);
    } catch (error) {
      if (!(error instanceof CredmuxError) || error.kind !== "config") throw error;
      problems.push(error);
    }
  }
  if (problems.length === 1) throw problems[0];
  if (problems.length > 1) {
    // Each problem keeps its own hint beside it: hints gathered at the end of the line no longer say which problem they fix.
    const prefix = `config ${shown}: `;
    const reasons = problems.map((problem) => {
      const reason = problem.message.startsWith(prefix) ? problem.message.slice(prefix.length) : problem.message;
      return problem.hint === undefined ? reason : `${reason} (${problem.hint})`;
    });
    throw configError(shown, reasons.join("; "));
  }
  return finishConfig(file, providers, absolute, shown);
}

/** The config document as its schema returns it. */
type ConfigFile = ReturnType<ReturnType<typeof buildSchemas>["fileSchema"]["parse"]>;

/** A provider entry's common fields, as providerCommonSchema returns them. */
type ProviderCommon = Pick<ProviderConfig, "name" | "type" | "tokenAttributes"> & { matchImages?: string[] };

/** Where a provider entry is: its document (for field paths with the provider's name), the config's directory and name. */
interface EntryContext {
  document: unknown;
  dir: string;
  shown: string;
}

/** One provider entry as the run uses it, or a config error naming its first problem. */
async function validateProvider(entry: ConfigFile["providers"][number], index: number, seen: Map<string, number>,
  providerCommonSchema: ReturnType<typeof buildSchemas>["providerCommonSchema"], context: EntryContext): Promise<ProviderConfig> {
  const { document, shown } = context;
  const at: PropertyKey[] = ["providers", index];
  const common = providerCommonSchema.safeParse(entry, { reportInput: true });
  if (!common.success) throw configError(shown, describeIssues(common.error.issues, at, document));
  const { name } = common.data;
  if (seen.has(name)) {
    throw configError(shown, `${formatPath([...at, "name"], document)}: provider name "${name}" is already used by providers[${seen.get(name)}]; names must be unique`);
  }
  seen.set(name, index);
  return resolveProvider(common.data, entry, at, context);
}

/**
 * A provider entry whose common fields are valid, as the run uses it: its definition loaded, its
 * options checked, its default patterns applied; or a config error naming its first problem.
 */
async function resolveProvider(common: ProviderCommon, entry: Record<string, unknown>, at: PropertyKey[], context: EntryContext): Promise<ProviderConfig> {
  const { document, dir, shown } = context;
  const { name, type, matchImages, tokenAttributes } = common;
  const rest: Record<string, unknown> = { ...entry };
  for (const field of COMMON_PROVIDER_FIELDS) delete rest[field];
  const definition = await loadProviderDefinition(type, rest, { dir, shown, at: formatPath(at, document) });
  let modulePath: string | undefined;
  if (type === "module") {
    modulePath = path.resolve(dir, rest.module as string);
    delete rest.module;
  }
  const options = checkOptions(definition, rest, at, context, modulePath === undefined ? type : `module ${modulePath}`);
  const patterns = matchImages ?? definition.defaultMatchImages;
  if (!patterns || patterns.length === 0) {
    throw configError(shown, `${formatPath([...at, "matchImages"], document)}: missing; type "${type}" has no default patterns, so the registries this provider serves must be listed`);
  }
  if (tokenAttributes) validateTokenAttributes(tokenAttributes, [...at, "tokenAttributes"], shown, document);
  return {
    name,
    type,
    matchImages: [...patterns],
    ...(tokenAttributes ? { tokenAttributes } : {}),
    ...(modulePath !== undefined ? { module: modulePath } : {}),
    options,
    cacheable: definition.cacheable !== false,
    definition: () => Promise.resolve(definition),
  };
}

/** The provider's own fields as its options schema returns them (as they are, when it has none), or a config error. */
function checkOptions(definition: ProviderDefinition<unknown>, fields: Record<string, unknown>, at: PropertyKey[], context: EntryContext, what: string): unknown {
  const { document, shown } = context;
  let schema: ReturnType<typeof providerOptionsSchema>;
  try {
    schema = providerOptionsSchema(definition);
  } catch (error) {
    throw configError(shown, `${formatPath(at, document)}: ${what}: ${(error as Error).message}`, "make options a function returning a zod schema, or leave it out");
  }
  if (!schema) return fields;
  const checked = schema.safeParse(fields, { reportInput: true });
  if (!checked.success) {
    // An unknown field of the entry may be a misspelt common field as well as an option.
    const fieldsAt = (within: PropertyKey[]) => [...knownFields(schema, within), ...(within.length === 0 ? COMMON_PROVIDER_FIELDS : [])];
    throw configError(shown, describeIssues(checked.error.issues, at, document, fieldsAt));
  }
  return checked.data;
}

/** The run's settings from a valid document and its providers. */
function finishConfig(file: ConfigFile, providers: ProviderConfig[], absolute: string, shown: string): Config {
  const dir = path.dirname(absolute);
  const timeoutMs = parseGoDuration(file.defaults?.timeout ?? "20s")!;
  if (timeoutMs <= 0 || timeoutMs >= KUBELET_PLUGIN_TIMEOUT_MS) {
    throw configError(shown, `defaults.timeout: expected a duration above 0 and below the kubelet's 1m plugin timeout, found ${timeoutMs <= 0 ? "0" : "1m or more"}`);
  }
  return {
    path: absolute,
    dir,
    defaults: {
      cacheDurationMs: parseGoDuration(file.defaults?.cacheDuration ?? "5m")!,
      expiryMarginMs: parseGoDuration(file.defaults?.expiryMargin ?? "5m")!,
      timeoutMs,
    },
    onFailure: file.onFailure ?? "error",
    cache: {
      dir: resolveCacheDir(file.cache?.dir, dir),
      maxEntries: file.cache?.maxEntries ?? 1000,
    },
    log: { ...(file.log?.level ? { level: file.log.level } : {}), file: file.log?.file ? path.resolve(dir, file.log.file) : "" },
    mirrors: file.mirrors ?? [],
    providers,
  };
}

function validateTokenAttributes(attributes: TokenAttributes, at: PropertyKey[], shown: string, document: unknown): void {
  const required = attributes.requiredServiceAccountAnnotationKeys ?? [];
  const optional = attributes.optionalServiceAccountAnnotationKeys ?? [];
  if (required.length > 0 && !attributes.requireServiceAccount) {
    throw configError(shown, `${formatPath([...at, "requiredServiceAccountAnnotationKeys"], document)}: requireServiceAccount must be true when requiredServiceAccountAnnotationKeys is set (the kubelet rejects this combination)`);
  }
  const both = required.filter((key) => optional.includes(key));
  if (both.length > 0) {
    throw configError(shown, `${formatPath(at, document)}: annotation keys cannot be both required and optional, found ${both.length === 1 ? "one key" : `${both.length} keys`} in both lists`);
  }
}

/** One line for a list of schema issues: each names its field path, what was expected and what was found. */
export function describeIssues(issues: ReadonlyArray<SchemaIssue>, prefix: PropertyKey[], document: unknown, fieldsAt: (path: PropertyKey[]) => readonly string[] = () => []): string {
  return issues.map((issue) => describeIssue(issue, prefix, document, fieldsAt)).join("; ");
}

function describeIssue(issue: SchemaIssue, prefix: PropertyKey[], document: unknown, fieldsAt: (path: PropertyKey[]) => readonly string[]): string {
  const fullPath = [...prefix, ...issue.path];
  const where = fullPath.length ? formatPath(fullPath, document) : "top level";
  // An empty YAML file is a null document.
  const found = fullPath.length === 0 && issue.input === null ? "an empty document" : describeValue(issue.input);
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? `${where}: missing, expected ${article(issue.expected)}`
        : `${where}: expected ${article(issue.expected)}, found ${found}`;
    case "unrecognized_keys": {
      const known = fieldsAt([...issue.path]);
      return `${where}: unknown field${issue.keys!.length > 1 ? "s" : ""} ${issue.keys!.map((k) => {
        const suggestion = closestName(k, known);
        return `"${k}"${suggestion ? ` (did you mean "${suggestion}"?)` : ""}`;
      }).join(", ")}`;
    }
    case "invalid_value": {
      const expected = issue.values!.length === 1 ? JSON.stringify(issue.values![0]) : `one of ${issue.values!.map((v) => JSON.stringify(v)).join(", ")}`;
      return issue.input === undefined ? `${where}: missing, expected ${expected}` : `${where}: expected ${expected}, found ${found}`;
    }
    case "too_small": {
      const { minimum } = issue as { minimum?: number };
      return Array.isArray(issue.input)
        ? `${where}: expected at least ${minimum} item${minimum === 1 ? "" : "s"}, found ${issue.input.length === 0 ? "an empty list" : found}`
        : typeof issue.input === "string"
          ? `${where}: expected a non-empty string, found an empty one`
          : `${where}: expected at least ${minimum}, found ${found}`;
    }
    case "too_big": {
      const { maximum } = issue as { maximum?: number };
      const unit = Array.isArray(issue.input) ? " items" : typeof issue.input === "string" ? " characters" : "";
      return `${where}: expected at most ${maximum}${unit}, found ${found}`;
    }
    case "invalid_format":
      return `${where}: ${issue.message === "Invalid input" ? "has the wrong format" : issue.message}, found ${found}`;
    case "invalid_key": {
      // The key is in the path already; what was wrong with it is the nested issue's message.
      const reason = (issue as { issues?: ReadonlyArray<SchemaIssue> }).issues?.[0]?.message;
      return `${where}: ${reason === undefined || reason === "Invalid input" ? "not a valid key" : `${reason} as the key`}`;
    }
    case "invalid_union": {
      // Each alternative's first issue; when every one is about the type, the types are what was expected.
      const alternatives = ((issue as { errors?: ReadonlyArray<ReadonlyArray<SchemaIssue>> }).errors ?? []).map((issues) => issues[0]);
      if (alternatives.length > 0 && alternatives.every((first) => first?.code === "invalid_type" && first.path.length === 0)) {
        const expected = alternatives.map((first) => article(first!.expected)).join(" or ");
        return issue.input === undefined ? `${where}: missing, expected ${expected}` : `${where}: expected ${expected}, found ${found}`;
      }
      return `${where}: invalid value, found ${found}`;
    }
    default:
      // An object's rule ("credential servicePrincipal needs clientId, ...") says what is wrong; "found an object" would add nothing.
      return `${where}: ${issue.message === "Invalid input" ? "invalid value" : issue.message}${issue.input !== undefined && !isPlainObject(issue.input) ? `, found ${found}` : ""}`;
  }
}

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function article(expected: string | undefined): string {
  switch (expected) {
    case "object": return "an object";
    case "array": return "a list";
    case "int": return "an integer";
    case undefined: return "a value";
    default: return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
  }
}

/** Describes a found value by its type, never its content: a secret in the wrong field must not reach the error line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return value === "" ? "an empty string" : "a string";
  return typeof value === "number" || typeof value === "bigint" ? "a number" : `a ${typeof value}`;
}

/** `providers[1].files[0]`, with the provider's name when it has one, so the operator finds the entry. */
export function formatPath(fullPath: ReadonlyArray<PropertyKey>, document?: unknown): string {
  let text = "";
  for (const part of fullPath) {
    text += typeof part === "number" ? `[${part}]` : /^[A-Za-z_$][\w$]*$/.test(String(part)) ? `${text ? "." : ""}${String(part)}` : `[${JSON.stringify(String(part))}]`;
  }
  if (fullPath[0] === "providers" && typeof fullPath[1] === "number") {
    const name = (document as { providers?: Array<{ name?: unknown }> } | undefined)?.providers?.[fullPath[1]]?.name;
    // Only a valid name: an invalid one is a value the error is refusing, which may be a misplaced secret.
    if (typeof name === "string" && PROVIDER_NAME.test(name)) text += ` (provider "${name}")`;
  }
  return text;
}

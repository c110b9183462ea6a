// The kubelet's side of credmux: the CredentialProviderConfig that makes the kubelet exec credmux
// for exactly the images credmux serves (protocol section 3), generated from the credmux config,
// merged into a config the node already has, and checked with the kubelet's own decoding and
// validation rules (pkg/credentialprovider/plugin/config.go), whose error texts are copied exactly:
// a config the kubelet rejects stops the kubelet, so credmux must never write one.
import fs from "node:fs";
import path from "node:path";
import type { Config, ProviderConfig, TokenAttributes } from "../config.js";
import { formatGoDuration, parseGoDuration } from "../duration.js";
import { CredmuxError } from "../errors.js";
import { goQuote, goURLError } from "../go-url.js";
import { loadDeferred } from "../startup/deferred.js";
import { entryArg } from "./kubelet-entry.js";
import { matchImage } from "../match.js";
import { sha256Hex } from "../sha256.js";
import { API_GROUP, API_VERSIONS } from "../protocol.js";

/** The group and kind of the kubelet's --image-credential-provider-config file. */
export const KUBELET_CONFIG_GROUP = "kubelet.config.k8s.io";
export const KUBELET_CONFIG_KIND = "CredentialProviderConfig";
/** tokenAttributes exists only in this version of the config file. */
export const KUBELET_CONFIG_V1 = `${KUBELET_CONFIG_GROUP}/v1`;
const KUBELET_CONFIG_VERSIONS = ["v1", "v1beta1", "v1alpha1"];
/** The request apiVersion credmux asks for: the only one that carries service-account tokens. */
const PLUGIN_API_VERSION = `${API_GROUP}/v1`;
/** The executable's name in the kubelet's bin dir, and the prefix of its service-account entries. */
export const DEFAULT_ENTRY_NAME = "credmux";

/** One `providers[]` entry of a kubelet CredentialProviderConfig, as decoded (absent fields are Go's zero values). */
export interface KubeletProvider {
  name?: string;
  matchImages?: string[];
  /** A Go duration string; absent is an error (the kubelet keeps it as a nil pointer). */
  defaultCacheDuration?: string;
  apiVersion?: string;
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  tokenAttributes?: {
    serviceAccountTokenAudience?: string;
    cacheType?: string;
    requireServiceAccount?: boolean;
    requiredServiceAccountAnnotationKeys?: string[];
    optionalServiceAccountAnnotationKeys?: string[];
  };
}

/** One decoded kubelet config file. */
export interface KubeletConfigDocument {
  apiVersion: string;
  kind: string;
  providers: KubeletProvider[];
}

// ---------------------------------------------------------------------------------------------
// Generation

/**
 * The kubelet entries for a credmux config: one named `name` for every provider outside
 * service-account mode, and one per service-account audience (the kubelet has one tokenAttributes
 * per entry; `credmux install` links those names to the same executable). Their args name the
 * entry's kind and audience, never a provider (src/node/kubelet-entry.ts), so renaming a provider or
 * adding one with the same patterns leaves them right. `configArg` is the credmux config's path as
 * the kubelet's exec must pass it.
 */
export function kubeletEntriesFor(config: Pick<Config, "providers" | "mirrors" | "defaults">, configArg: string, name = DEFAULT_ENTRY_NAME): KubeletProvider[] {
  interface Group { name: string; providers: ProviderConfig[]; matchImages: string[]; audience?: string }
  const base = (providers: ProviderConfig[], entryName: string, audience?: string): Group => ({
    name: entryName,
    providers,
    matchImages: unique(providers.flatMap((provider) => provider.matchImages)),
    ...(audience !== undefined ? { audience } : {}),
  });
  const plain = config.providers.filter((provider) => !provider.tokenAttributes);
  const audiences = unique(config.providers.flatMap((provider) => provider.tokenAttributes ? [provider.tokenAttributes.serviceAccountTokenAudience] : []));
  const groups = [
    ...(plain.length > 0 ? [base(plain, name)] : []),
    ...audiences.map((audience) => base(config.providers.filter((provider) => provider.tokenAttributes?.serviceAccountTokenAudience === audience), audienceEntryName(name, audience), audience)),
  ];
  // The kubelet must exec credmux for a mirror's `from` images too: they go to the entries whose
  // providers serve the mirror's `to` image (with their tokens, in service-account mode).
  for (const rule of config.mirrors) {
    const serving = groups.filter((group) => group.providers.some((provider) => provider.matchImages.some((pattern) => matchImage(pattern, rule.to))));
    if (serving.length === 0 && groups[0]?.name !== name) groups.unshift(base([], name));
    for (const group of serving.length > 0 ? serving : [groups[0]!]) group.matchImages = unique([...group.matchImages, rule.from]);
  }
  return groups.map((group) => ({
    name: group.name,
    matchImages: group.matchImages,
    defaultCacheDuration: formatGoDuration(config.defaults.cacheDurationMs),
    apiVersion: PLUGIN_API_VERSION,
    // The main entry's exec must not ask a service-account provider without its token, and an
    // audience's entry asks only the providers that take that audience's token.
    args: ["--config", configArg, "--entry", entryArg(group.audience === undefined ? { kind: "node" } : { kind: "service-account", audience: group.audience })],
    // A Node bundle installed instead of the single executable would run code a NODE_OPTIONS in the
    // kubelet's environment names; the kubelet appends env after its own, so this one wins.
    env: [{ name: "NODE_OPTIONS", value: "" }],
    ...(group.audience !== undefined ? { tokenAttributes: audienceTokenAttributes(group.providers.map((provider) => provider.tokenAttributes!)) } : {}),
  }));
}

/**
 * The name of an audience's entry (and of its link in the bin dir): `name-AUDIENCE`, with a short
 * hash of the audience when it has characters a file name or the kubelet refuses (`api://x`), so
 * that two audiences never share a name and renaming a provider never renames its entry.
 */
export function audienceEntryName(name: string, audience: string): string {
  const slug = audience.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  return slug === audience && slug !== "." && slug !== ".." ? `${name}-${slug}` : `${name}-${slug ? `${slug}-` : ""}${sha256Hex(audience).slice(0, 8)}`;
}

/**
 * One entry's tokenAttributes for the providers that share its audience: the kubelet calls the
 * entry only when every required annotation is there, so it requires what all of them require and
 * passes the rest as optional (each provider's own requirements are checked per request); the
 * answer is cached per token if any provider wants that, and a service account is required only if
 * every provider requires one.
 */
function audienceTokenAttributes(all: readonly TokenAttributes[]): NonNullable<KubeletProvider["tokenAttributes"]> {
  const requiredKeys = all.map((attributes) => attributes.requiredServiceAccountAnnotationKeys ?? []);
  const required = requiredKeys[0]!.filter((key) => requiredKeys.every((keys) => keys.includes(key)));
  const optional = unique(all.flatMap((attributes) => [...(attributes.requiredServiceAccountAnnotationKeys ?? []), ...(attributes.optionalServiceAccountAnnotationKeys ?? [])]))
    .filter((key) => !required.includes(key));
  return {
    serviceAccountTokenAudience: all[0]!.serviceAccountTokenAudience,
    cacheType: all.some((attributes) => attributes.cacheType === "Token") ? "Token" : "ServiceAccount",
    requireServiceAccount: all.every((attributes) => attributes.requireServiceAccount),
    ...(required.length ? { requiredServiceAccountAnnotationKeys: required } : {}),
    ...(optional.length ? { optionalServiceAccountAnnotationKeys: optional } : {}),
  };
}

/** The whole kubelet config file for a credmux config (see kubeletEntriesFor). */
export function kubeletConfigFor(config: Pick<Config, "providers" | "mirrors" | "defaults">, configArg: string, name = DEFAULT_ENTRY_NAME): KubeletConfigDocument {
  return { apiVersion: KUBELET_CONFIG_V1, kind: KUBELET_CONFIG_KIND, providers: kubeletEntriesFor(config, configArg, name) };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * Whether an entry of an existing kubelet config is credmux's, so that a merge replaces it: the
 * entry named `name`, or a `name-*` service-account entry that runs the same credmux config.
 */
export function isCredmuxEntry(entry: KubeletProvider, configArg: string, name = DEFAULT_ENTRY_NAME): boolean {
  if (entry.name === name) return true;
  return entry.name?.startsWith(`${name}-`) === true && entry.args?.[0] === "--config" && entry.args[1] === configArg;
}

// ---------------------------------------------------------------------------------------------
// Output and merging

/** The two formats the kubelet reads. */
export type KubeletConfigFormat = "yaml" | "json";

/** The config as text: YAML (with a comment saying where it came from) or indented JSON. */
export function formatKubeletConfig(document: KubeletConfigDocument, format: KubeletConfigFormat, comment?: string): string {
  if (format === "json") return `${JSON.stringify(document, null, 2)}\n`;
  const YAML = loadDeferred<typeof import("yaml")>("yaml");
  const doc = new YAML.Document(document);
  if (comment) doc.commentBefore = comment.split("\n").map((line) => ` ${line}`).join("\n");
  return doc.toString({ lineWidth: 0 });
}

/** The format of an existing config file's text: JSON if it is a JSON object, else YAML (as the kubelet decides). */
export function kubeletConfigFormatOf(text: string): KubeletConfigFormat {
  return /^\s*\{/.test(text) ? "json" : "yaml";
}

/** A merged kubelet config and what the merge did, by entry name. */
export interface MergeResult {
  text: string;
  format: KubeletConfigFormat;
  /** Names of the other providers, kept as they were. */
  kept: string[];
  /** Names of credmux entries replaced, and of those added or dropped. */
  replaced: string[];
  added: string[];
  removed: string[];
}

/**
 * Adds or replaces credmux's entries in an existing kubelet config (text of `file`) and keeps every
 * other provider, its fields and, in YAML, its comments. The new entries take the place of the old
 * ones (or go last). The result is checked with the kubelet's rules; a config it would reject is an error.
 */
export function mergeKubeletConfig(existing: string, file: string, entries: readonly KubeletProvider[], configArg: string, name = DEFAULT_ENTRY_NAME): MergeResult {
  const current = decodeKubeletConfig(existing, file);
  const ownsEntry = (entry: KubeletProvider) => isCredmuxEntry(entry, configArg, name);
  const newNames = new Set(entries.map((entry) => entry.name!));
  for (const entry of current.providers) {
    if (!ownsEntry(entry) && newNames.has(entry.name ?? "")) {
      throw new CredmuxError("config", `kubelet config ${file}: it already has a provider named "${entry.name}" that is not credmux's (its args do not run --config ${configArg})`,
        "rename or remove that entry, or the credmux provider whose service-account entry takes that name");
    }
  }
  const owned = current.providers.filter(ownsEntry).map((entry) => entry.name!);
  const kept = current.providers.filter((entry) => !ownsEntry(entry)).map((entry) => entry.name ?? "");
  const firstOwned = current.providers.findIndex(ownsEntry);
  const insertAt = firstOwned < 0 ? current.providers.length : firstOwned;
  const needsV1 = entries.some((entry) => entry.tokenAttributes) && current.apiVersion !== KUBELET_CONFIG_V1;
  const format = kubeletConfigFormatOf(existing);
  let text: string;
  if (format === "json") {
    const raw = JSON.parse(existing) as Record<string, unknown>;
    const others = (raw.providers as unknown[] | undefined ?? []).filter((_, index) => !ownsEntry(current.providers[index]!));
    const providers = [...others.slice(0, countKeptBefore(current.providers, insertAt, ownsEntry)), ...entries, ...others.slice(countKeptBefore(current.providers, insertAt, ownsEntry))];
    text = `${JSON.stringify({ ...raw, ...(needsV1 ? { apiVersion: KUBELET_CONFIG_V1 } : {}), providers }, null, 2)}\n`;
  } else {
    const YAML = loadDeferred<typeof import("yaml")>("yaml");
    const doc = YAML.parseDocument(existing, { uniqueKeys: true });
    let seq = doc.get("providers", true);
    if (!YAML.isSeq(seq)) {
      seq = doc.createNode([]);
      doc.set("providers", seq);
    }
    const items = (seq as import("yaml").YAMLSeq).items;
    const keptItems = items.filter((_, index) => !ownsEntry(current.providers[index]!));
    const at = countKeptBefore(current.providers, insertAt, ownsEntry);
    (seq as import("yaml").YAMLSeq).items = [...keptItems.slice(0, at), ...entries.map((entry) => doc.createNode(entry)), ...keptItems.slice(at)];
    (seq as import("yaml").YAMLSeq).flow = false; // "providers: []" would otherwise hold the entries on one line
    if (needsV1) doc.set("apiVersion", KUBELET_CONFIG_V1);
    text = doc.toString({ lineWidth: 0 });
  }
  const merged = decodeKubeletConfig(text, file);
  const errors = validateKubeletProviders(merged.providers, { serviceAccountTokenGate: true });
  if (errors.length > 0) {
    throw new CredmuxError("config", `kubelet config ${file}: merged, the kubelet would reject it: failed to validate credential provider config: ${aggregateKubeletErrors(errors)}`,
      "fix the other providers' entries first; credmux writes nothing the kubelet rejects");
  }
  return {
    text,
    format,
    kept,
    replaced: owned.filter((entryName) => newNames.has(entryName)),
    added: [...newNames].filter((entryName) => !owned.includes(entryName)),
    removed: owned.filter((entryName) => !newNames.has(entryName)),
  };
}

function countKeptBefore(providers: readonly KubeletProvider[], index: number, owns: (entry: KubeletProvider) => boolean): number {
  return providers.slice(0, index).filter((entry) => !owns(entry)).length;
}

// ---------------------------------------------------------------------------------------------
// The kubelet's decoding (readCredentialProviderConfig and its strict codec)

type FieldKind = "string" | "strings" | "duration" | "bool" | "env" | "tokenAttributes" | "providers";
const DOCUMENT_FIELDS: Record<string, FieldKind> = { apiVersion: "string", kind: "string", providers: "providers" };
const PROVIDER_FIELDS: Record<string, FieldKind> = {
  name: "string", matchImages: "strings", defaultCacheDuration: "duration", apiVersion: "string", args: "strings", env: "env",
};
const TOKEN_ATTRIBUTE_FIELDS: Record<string, FieldKind> = {
  serviceAccountTokenAudience: "string", cacheType: "string", requireServiceAccount: "bool",
  requiredServiceAccountAnnotationKeys: "strings", optionalServiceAccountAnnotationKeys: "strings",
};
const GO_TYPES: Record<FieldKind, string> = {
  string: "string", strings: "[]string", duration: "*v1.Duration", bool: "*bool", env: "[]v1.ExecEnvVar",
  tokenAttributes: "*v1.ServiceAccountTokenAttributes", providers: "[]v1.CredentialProvider",
};

class DecodeError extends Error {}

/**
 * Decodes one kubelet config file's text as the kubelet does: JSON or YAML, a registered
 * apiVersion and kind, no unknown or duplicate field (tokenAttributes only in v1), Go's types.
 * Throws a CredmuxError with the kubelet's message, `error decoding config "<file>": ...`.
 */
export function decodeKubeletConfig(text: string, file: string): KubeletConfigDocument {
  try {
    return decodeDocument(parseKubeletText(text));
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    throw new CredmuxError("config", `error decoding config "${file}": ${error.message}`, "the kubelet would refuse to start with this file");
  }
}

function parseKubeletText(text: string): unknown {
  const YAML = loadDeferred<typeof import("yaml")>("yaml");
  const json = kubeletConfigFormatOf(text) === "json";
  let parsedJson: unknown;
  if (json) {
    try {
      parsedJson = JSON.parse(text);
    } catch (error) {
      throw new DecodeError(`invalid JSON: ${(error as Error).message}`);
    }
  }
  // The yaml parser also finds a JSON document's duplicate keys, which JSON.parse silently drops.
  const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length > 1) throw new DecodeError("error converting YAML to JSON: expected one document, found several");
  const doc = list[0];
  const duplicate = doc?.errors.find((error) => error.code === "DUPLICATE_KEY");
  if (duplicate) {
    // The yaml library does not name the key; the source line does.
    const line = duplicate.linePos?.[0].line ?? 0;
    const key = /^[\s{,-]*"?([^":{},]+)"?\s*:/.exec(text.split("\n")[line - 1]?.slice((duplicate.linePos?.[0].col ?? 1) - 1) ?? "")?.[1]?.trim() ?? "";
    if (json) throw new DecodeError(`strict decoding error: duplicate field ${goQuote(key)}`);
    throw new DecodeError(`error converting YAML to JSON: yaml: unmarshal errors: line ${line}: key ${goQuote(key)} already set in map`);
  }
  if (json) return parsedJson;
  if (!doc) return null;
  const first = doc.errors[0];
  if (first) throw new DecodeError(`error converting YAML to JSON: yaml: line ${first.linePos?.[0].line ?? 0}: ${first.message.split("\n")[0]}`);
  return doc.toJS({ maxAliasCount: 100 });
}

function decodeDocument(raw: unknown): KubeletConfigDocument {
  if (raw === null || raw === undefined || typeof raw !== "object" || Array.isArray(raw)) {
    throw new DecodeError(`Object 'Kind' is missing in '${raw === null || raw === undefined ? "" : JSON.stringify(raw)}'`);
  }
  const body = raw as Record<string, unknown>;
  if (typeof body.kind !== "string" || body.kind === "") throw new DecodeError(`Object 'Kind' is missing in '${JSON.stringify(raw)}'`);
  if (typeof body.apiVersion !== "string" || body.apiVersion === "") throw new DecodeError(`Object 'apiVersion' is missing in '${JSON.stringify(raw)}'`);
  const slash = body.apiVersion.lastIndexOf("/");
  const group = slash < 0 ? "" : body.apiVersion.slice(0, slash);
  const version = body.apiVersion.slice(slash + 1);
  if (group !== KUBELET_CONFIG_GROUP || !KUBELET_CONFIG_VERSIONS.includes(version) || body.kind !== KUBELET_CONFIG_KIND) {
    throw new DecodeError(`no kind "${body.kind}" is registered for version "${body.apiVersion}"`);
  }
  const unknown: string[] = [];
  const typed = decodeObject(body, DOCUMENT_FIELDS, "", KUBELET_CONFIG_KIND, version, unknown) as unknown as KubeletConfigDocument;
  if (unknown.length > 0) throw new DecodeError(`strict decoding error: ${unknown.map((field) => `unknown field "${field}"`).join(", ")}`);
  return { apiVersion: body.apiVersion, kind: body.kind, providers: typed.providers ?? [] };
}

function decodeObject(raw: Record<string, unknown>, fields: Record<string, FieldKind>, at: string, struct: string, version: string, unknown: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const where = at ? `${at}.${key}` : key;
    const kind = fields[key] ?? (key === "tokenAttributes" && fields === PROVIDER_FIELDS && version === "v1" ? "tokenAttributes" : undefined);
    if (kind === undefined) {
      unknown.push(where);
      continue;
    }
    if (value === null) continue; // JSON null leaves Go's zero value
    // Go names the innermost struct and the field's whole path: "CredentialProvider.providers.matchImages".
    out[key] = decodeValue(value, kind, where, `${struct}.${where.replace(/\[\d+\]/g, "")}`, version, unknown);
  }
  return out;
}

function decodeValue(value: unknown, kind: FieldKind, where: string, goField: string, version: string, unknown: string[]): unknown {
  const mismatch = () => new DecodeError(`json: cannot unmarshal ${jsonType(value)} into Go struct field ${goField} of type ${GO_TYPES[kind]}`);
  const list = (each: (item: unknown, index: number) => unknown) => {
    if (!Array.isArray(value)) throw mismatch();
    return value.map(each);
  };
  const object = (item: unknown, fields: Record<string, FieldKind>, itemAt: string, struct: string) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) throw new DecodeError(`json: cannot unmarshal ${jsonType(item)} into Go struct field ${goField} of type v1.${struct}`);
    return decodeObject(item as Record<string, unknown>, fields, itemAt, struct, version, unknown);
  };
  switch (kind) {
    case "string":
      if (typeof value !== "string") throw mismatch();
      return value;
    case "bool":
      if (typeof value !== "boolean") throw mismatch();
      return value;
    case "strings":
      return list((item) => {
        if (typeof item !== "string") throw new DecodeError(`json: cannot unmarshal ${jsonType(item)} into Go struct field ${goField} of type string`);
        return item;
      });
    case "duration":
      if (typeof value !== "string") throw mismatch();
      if (parseGoDuration(value) === undefined) throw new DecodeError(`time: invalid duration ${goQuote(value)}`);
      return value;
    case "env":
      return list((item, index) => {
        const decoded = object(item, { name: "string", value: "string" }, `${where}[${index}]`, "ExecEnvVar");
        return { name: decoded.name ?? "", value: decoded.value ?? "" };
      });
    case "tokenAttributes":
      return object(value, TOKEN_ATTRIBUTE_FIELDS, where, "ServiceAccountTokenAttributes");
    case "providers":
      return list((item, index) => object(item, PROVIDER_FIELDS, `${where}[${index}]`, "CredentialProvider"));
  }
}

function jsonType(value: unknown): string {
  if (Array.isArray(value)) return "array";
  if (value === null) return "null";
  if (typeof value === "boolean") return "bool";
  return typeof value === "object" ? "object" : typeof value;
}

/**
 * Reads a kubelet credential provider config path as the kubelet does: one file, or (kubelet 1.34+)
 * a directory whose *.json, *.yaml and *.yml files are decoded in lexicographic order and their
 * providers concatenated, a name repeated across files being an error.
 */
export function readKubeletConfigPath(configPath: string): KubeletConfigDocument[] {
  if (configPath === "") throw new CredmuxError("config", "credential provider config path is empty");
  let stat: fs.Stats;
  try {
    stat = fs.statSync(configPath);
  } catch (error) {
    throw new CredmuxError("config", `unable to access path "${configPath}": ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const read = (file: string) => decodeKubeletConfig(fs.readFileSync(file, "utf8"), file);
  if (!stat.isDirectory()) return [read(configPath)];
  const files = fs.readdirSync(configPath)
    .map((entry) => path.join(configPath, entry))
    .filter((file) => /\.(json|yaml|yml)$/.test(file) && !fs.statSync(file).isDirectory())
    .sort();
  if (files.length === 0) throw new CredmuxError("config", `no configuration files found in directory "${configPath}"`);
  const documents = files.map(read);
  const seen = new Set<string>();
  for (const provider of documents.flatMap((document) => document.providers)) {
    if (seen.has(provider.name ?? "")) throw new CredmuxError("config", `duplicate provider name "${provider.name}" found in configuration file(s)`);
    seen.add(provider.name ?? "");
  }
  return documents;
}

/**
 * What the kubelet does with its --image-credential-provider-config at start: read and decode it,
 * then validate every provider. Throws the kubelet's error; returns the providers it would register.
 */
export function loadKubeletConfig(configPath: string, options: { serviceAccountTokenGate: boolean }): KubeletProvider[] {
  const providers = readKubeletConfigPath(configPath).flatMap((document) => document.providers);
  const errors = validateKubeletProviders(providers, options);
  if (errors.length > 0) throw new CredmuxError("config", `failed to validate credential provider config: ${aggregateKubeletErrors(errors)}`);
  return providers;
}

// ---------------------------------------------------------------------------------------------
// The kubelet's validation (validateCredentialProviderConfig), message for message

const SUPPORTED_CACHE_TYPES = ["ServiceAccount", "Token"];

/**
 * The kubelet's validateCredentialProviderConfig: every error, in its order and words. The
 * service-account gate is KubeletServiceAccountTokenForCredentialProviders (beta, on, since 1.34).
 */
export function validateKubeletProviders(providers: readonly KubeletProvider[], options: { serviceAccountTokenGate: boolean }): string[] {
  const errors: string[] = [];
  if (providers.length === 0) errors.push(required("providers", "at least 1 item in plugins is required"));
  const seen = new Set<string>();
  for (const provider of providers) {
    const name = provider.name ?? "";
    if (name.includes("/")) errors.push(invalid("providers.name", name, "provider name cannot contain '/'"));
    if (name.includes(" ")) errors.push(invalid("providers.name", name, "provider name cannot contain spaces"));
    if (name === ".") errors.push(invalid("providers.name", name, "provider name cannot be '.'"));
    if (name === "..") errors.push(invalid("providers.name", name, "provider name cannot be '..'"));
    if (seen.has(name)) errors.push(`providers.name: Duplicate value: ${goQuote(name)}`);
    seen.add(name);

    const apiVersion = provider.apiVersion ?? "";
    if (apiVersion === "") errors.push(required("providers.apiVersion"));
    else if (!(API_VERSIONS as readonly string[]).includes(apiVersion)) errors.push(notSupported("providers.apiVersion", apiVersion, [...API_VERSIONS].sort()));

    const matchImages = provider.matchImages ?? [];
    if (matchImages.length === 0) errors.push(required("providers.matchImages", "at least 1 item in matchImages is required"));
    for (const pattern of matchImages) {
      const problem = goURLError(`https://${pattern}`);
      if (problem !== undefined) errors.push(invalid("providers.matchImages", pattern, `match image is invalid: ${problem}`));
    }

    if (provider.defaultCacheDuration === undefined) errors.push(required("providers.defaultCacheDuration"));
    else {
      const ms = parseGoDuration(provider.defaultCacheDuration);
      if (ms !== undefined && ms < 0) errors.push(invalid("providers.defaultCacheDuration", goDurationString(ms), "must be greater than or equal to 0"));
    }

    const attributes = provider.tokenAttributes;
    if (attributes) {
      const at = "providers.tokenAttributes";
      if (!options.serviceAccountTokenGate) errors.push(`${at}: Forbidden: tokenAttributes is not supported when KubeletServiceAccountTokenForCredentialProviders feature gate is disabled`);
      if (!attributes.serviceAccountTokenAudience) errors.push(required(`${at}.serviceAccountTokenAudience`));
      if (attributes.requireServiceAccount === undefined) errors.push(required(`${at}.requireServiceAccount`));
      if (apiVersion !== PLUGIN_API_VERSION) errors.push(`${at}: Forbidden: tokenAttributes is only supported for ${PLUGIN_API_VERSION} API version`);
      const requiredKeys = attributes.requiredServiceAccountAnnotationKeys ?? [];
      const optionalKeys = attributes.optionalServiceAccountAnnotationKeys ?? [];
      if (attributes.requireServiceAccount === false && requiredKeys.length > 0) {
        errors.push(`${at}.requiredServiceAccountAnnotationKeys: Forbidden: requireServiceAccount cannot be false when requiredServiceAccountAnnotationKeys is set`);
      }
      errors.push(...validateAnnotationKeys(`${at}.requiredServiceAccountAnnotationKeys`, requiredKeys));
      errors.push(...validateAnnotationKeys(`${at}.optionalServiceAccountAnnotationKeys`, optionalKeys));
      const both = [...new Set(requiredKeys)].filter((key) => optionalKeys.includes(key)).sort();
      if (both.length > 0) errors.push(`${at}: Invalid value: ${JSON.stringify(both)}: annotation keys cannot be both required and optional`);
      const cacheType = attributes.cacheType ?? "";
      if (cacheType === "") errors.push(required(`${at}.cacheType`, `cacheType is required to be set when tokenAttributes is specified. Supported values are: ${SUPPORTED_CACHE_TYPES.join(", ")}`));
      else if (!SUPPORTED_CACHE_TYPES.includes(cacheType)) errors.push(notSupported(`${at}.cacheType`, cacheType, SUPPORTED_CACHE_TYPES));
    }
  }
  return errors;
}

/** Go's utilerrors aggregate: one message alone, several deduplicated in brackets. */
export function aggregateKubeletErrors(errors: readonly string[]): string {
  const distinct = [...new Set(errors)];
  return distinct.length === 1 ? distinct[0]! : `[${distinct.join(", ")}]`;
}

function validateAnnotationKeys(at: string, keys: readonly string[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    // Annotation keys are qualified names, case aside (metav1.ObjectMeta's rule).
    for (const message of qualifiedNameErrors(key.toLowerCase())) errors.push(invalid(at, key, message));
    if (seen.has(key)) errors.push(`${at}: Duplicate value: ${goQuote(key)}`);
    seen.add(key);
  }
  return errors;
}

// apimachinery's validation.IsQualifiedName and IsDNS1123Subdomain, with their messages.
const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MESSAGE = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MESSAGE = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

function regexError(message: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${format}')`;
  return `${message} (e.g. ${examples.map((example) => `'${example}', `).join(" or ")}regex used for validation is '${format}')`;
}

function qualifiedNameErrors(value: string): string[] {
  const errors: string[] = [];
  const parts = value.split("/");
  if (parts.length > 2) {
    return [`a qualified name ${regexError(QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`];
  }
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0) errors.push("prefix part must be non-empty");
    else {
      if (prefix.length > 253) errors.push("prefix part must be no more than 253 characters");
      if (!DNS1123_SUBDOMAIN.test(prefix)) errors.push(`prefix part ${regexError(DNS1123_SUBDOMAIN_MESSAGE, DNS1123_SUBDOMAIN_FMT, "example.com")}`);
    }
  }
  if (name.length === 0) errors.push("name part must be non-empty");
  else if (name.length > 63) errors.push("name part must be no more than 63 characters");
  if (!QUALIFIED_NAME.test(name)) errors.push(`name part ${regexError(QUALIFIED_NAME_MESSAGE, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`);
  return errors;
}

// field.Error's texts (apimachinery/pkg/util/validation/field).
function required(at: string, detail?: string): string {
  return `${at}: Required value${detail ? `: ${detail}` : ""}`;
}

function invalid(at: string, value: string, detail: string): string {
  return `${at}: Invalid value: ${goQuote(value)}: ${detail}`;
}

function notSupported(at: string, value: string, supported: readonly string[]): string {
  return `${at}: Unsupported value: ${goQuote(value)}: supported values: ${supported.map(goQuote).join(", ")}`;
}

/** Go's time.Duration.String() for milliseconds (nanosecond precision): "-1m0s", "1.5s", "250ms". */
export function goDurationString(ms: number): string {
  let ns = BigInt(Math.round(ms * 1e6));
  if (ns === 0n) return "0s";
  const sign = ns < 0n ? "-" : "";
  if (ns < 0n) ns = -ns;
  const fraction = (value: bigint, digits: number) => {
    const text = value.toString().padStart(digits, "0").replace(/0+$/, "");
    return text ? `.${text}` : "";
  };
  if (ns < 1_000_000_000n) {
    if (ns < 1000n) return `${sign}${ns}ns`;
    if (ns < 1_000_000n) return `${sign}${ns / 1000n}${fraction(ns % 1000n, 3)}µs`;
    return `${sign}${ns / 1_000_000n}${fraction(ns % 1_000_000n, 6)}ms`;
  }
  const seconds = ns / 1_000_000_000n;
  const text = `${seconds % 60n}${fraction(ns % 1_000_000_000n, 9)}s`;
  const minutes = seconds / 60n;
  if (minutes === 0n) return `${sign}${text}`;
  const hours = minutes / 60n;
  return `${sign}${hours > 0n ? `${hours}h` : ""}${minutes % 60n}m${text}`;
}

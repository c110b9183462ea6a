// docs/config-reference.md and docs/config.schema.json, generated from the zod schemas the config
// is validated with (src/config.ts, each built-in provider's options) and the descriptions beside
// them (option-descriptions.ts). `npm run docs` writes them; test/config-reference.test.ts holds
// the committed files equal to what this makes. Not part of the bundle: nothing here runs in an exec.
import { toJSONSchema } from "zod/mini";
import { buildSchemas, CONFIG_API_VERSION } from "../config.js";
import { builtinProviders } from "../../providers/registry.js";
import type { ProviderDefinition } from "../provider.js";
import { loadProviderDefinition } from "../provider-loader.js";
import { providerOptionsSchema } from "../provider-options.js";
import { CONFIG_DESCRIPTIONS, PROVIDER_COMMON_DESCRIPTIONS, type Descriptions } from "./option-descriptions.js";

/** The part of a JSON Schema (draft 2020-12, as zod writes it) this file reads. */
export interface JsonSchema {
  $schema?: string;
  type?: string;
  const?: unknown;
  enum?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  minItems?: number;
  minLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  description?: string;
  [key: string]: unknown;
}

/** The built-in provider types, in the registry's order. */
export function builtinTypes(): string[] {
  return Object.keys(builtinProviders);
}

/** A zod schema as JSON Schema: the input a config may hold (refinements cannot be written in it and are left out). */
function jsonSchemaOf(schema: unknown): JsonSchema {
  const { $schema: _, ...rest } = toJSONSchema(schema as Parameters<typeof toJSONSchema>[0], { io: "input", unrepresentable: "any" }) as JsonSchema;
  return rest;
}

/** A built-in type's definition, loaded as a run loads it. */
function builtinDefinition(type: string): Promise<ProviderDefinition<unknown>> {
  return loadProviderDefinition(type, {}, { dir: ".", shown: "(reference)", at: type });
}

/** A built-in type's options schema, as its definition builds it (options()). */
async function optionsJsonSchema(type: string): Promise<JsonSchema> {
  const schema = providerOptionsSchema(await builtinDefinition(type));
  if (!schema) throw new Error(`providers/${type}.ts defines no options`);
  return jsonSchemaOf(schema);
}

/** Every schema of the config, as JSON Schema: the file's top level, a provider entry's common fields, each type's options. */
export async function referenceSchemas(): Promise<{ config: JsonSchema; common: JsonSchema; providers: Record<string, JsonSchema>; optionDescriptions: Record<string, Descriptions> }> {
  const { fileSchema, providerCommonSchema } = buildSchemas();
  const providers: Record<string, JsonSchema> = {};
  const optionDescriptions: Record<string, Descriptions> = {};
  for (const type of builtinTypes()) {
    providers[type] = await optionsJsonSchema(type);
    optionDescriptions[type] = (await builtinDefinition(type)).optionDescriptions ?? {};
  }
  return { config: jsonSchemaOf(fileSchema), common: jsonSchemaOf(providerCommonSchema), providers, optionDescriptions };
}

/** One field of a schema, where it is and what it takes. */
interface Field {
  path: string;
  schema: JsonSchema;
  required: boolean;
}

/** The fields of an object schema and of the objects inside it, depth first: `a.b`, `list[].field`, `record.*.field`. */
function fieldsOf(schema: JsonSchema, prefix = ""): Field[] {
  const fields: Field[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const at = prefix ? `${prefix}.${name}` : name;
    fields.push({ path: at, schema: child, required: schema.required?.includes(name) ?? false });
    fields.push(...nestedFields(child, at));
  }
  return fields;
}

function nestedFields(schema: JsonSchema, at: string): Field[] {
  if (schema.properties && Object.keys(schema.properties).length > 0) return fieldsOf(schema, at);
  if (schema.items?.properties) return fieldsOf(schema.items, `${at}[]`);
  if (typeof schema.additionalProperties === "object" && schema.additionalProperties.properties) return fieldsOf(schema.additionalProperties, `${at}.*`);
  return [];
}

/** What a field takes, in a few words. */
function typeText(schema: JsonSchema): string {
  if (schema.anyOf) return schema.anyOf.map(typeText).join(" or ");
  if (schema.const !== undefined) return `\`${JSON.stringify(schema.const)}\``;
  if (schema.enum) return `one of ${schema.enum.map((value) => `\`${String(value)}\``).join(", ")}`;
  switch (schema.type) {
    case "string": return "string";
    case "boolean": return "boolean";
    case "integer": {
      const bounds = [schema.minimum !== undefined ? `≥ ${schema.minimum}` : "", schema.maximum !== undefined && schema.maximum < Number.MAX_SAFE_INTEGER ? `≤ ${schema.maximum}` : ""].filter(Boolean);
      return ["integer", ...bounds].join(" ");
    }
    case "array": {
      const item = schema.items ? typeText(schema.items) : "values";
      const nonEmpty = schema.minItems ? "non-empty " : "";
      return `${nonEmpty}list of ${item === "object" ? "objects" : `${item}s`}`;
    }
    case "object":
      if (typeof schema.additionalProperties === "object" && !schema.properties) return `map of string to ${typeText(schema.additionalProperties)}`;
      return "object";
    default: return "any";
  }
}

/** The descriptions of fields, or an error naming every field without one and every description of no field. */
function describedFields(fields: readonly Field[], descriptions: Descriptions, what: string): Array<Field & { description: string }> {
  const missing = fields.filter((field) => !Object.hasOwn(descriptions, field.path)).map((field) => field.path);
  const known = new Set(fields.map((field) => field.path));
  const stale = Object.keys(descriptions).filter((path) => !known.has(path));
  if (missing.length > 0 || stale.length > 0) {
    throw new Error(`${what}: ${[
      missing.length > 0 ? `no description of ${missing.join(", ")}` : "",
      stale.length > 0 ? `a description of ${stale.join(", ")}, which the schema does not have` : "",
    ].filter(Boolean).join("; ")}`);
  }
  return fields.map((field) => ({ ...field, description: descriptions[field.path]! }));
}

function table(fields: ReadonlyArray<Field & { description: string }>): string {
  const cell = (text: string) => text.replaceAll("|", "\\|").replaceAll("\n", " ");
  return [
    "| field | type | required | meaning |",
    "|---|---|---|---|",
    ...fields.map((field) => `| \`${field.path}\` | ${cell(typeText(field.schema))} | ${field.required ? "yes" : ""} | ${cell(field.description)} |`),
  ].join("\n");
}

/** docs/config-reference.md. */
export async function renderConfigReference(): Promise<string> {
  const schemas = await referenceSchemas();
  const top = describedFields(fieldsOf(schemas.config), CONFIG_DESCRIPTIONS, "src/reference/option-descriptions.ts, CONFIG_DESCRIPTIONS");
  const common = describedFields(fieldsOf(schemas.common), PROVIDER_COMMON_DESCRIPTIONS, "src/reference/option-descriptions.ts, PROVIDER_COMMON_DESCRIPTIONS");
  const sections = await Promise.all(builtinTypes().map(async (type) => {
    const fields = describedFields(fieldsOf(schemas.providers[type]!), schemas.optionDescriptions[type]!, `providers/${type}.ts, optionDescriptions`);
    const entry = await builtinDefinition(type);
    const defaults = entry.defaultMatchImages
      ? `Default \`matchImages\`: ${entry.defaultMatchImages.map((pattern) => `\`${pattern}\``).join(", ")}.`
      : "No default `matchImages`: the entry must list them.";
    const cached = entry.cacheable !== false ? "Answers are kept in the credential cache (`cache.dir`) until shortly before they expire." : "Answers are read afresh on every exec, never cached by credmux.";
    return [`### \`${type}\``, "", `${defaults} ${cached}`, "", fields.length > 0 ? table(fields) : "No options.", ""].join("\n");
  }));
  return [
    "# credmux config reference",
    "",
    "<!-- Generated by `npm run docs` from the zod schemas (src/config.ts, providers/*.ts) and",
    "     src/reference/option-descriptions.ts; test/config-reference.test.ts fails when it differs. Do not edit. -->",
    "",
    `The credmux config is YAML or JSON (JSON is faster to read: README, "Config"). \`docs/config.schema.json\` is the same`,
    "as a JSON Schema, for editors (`# yaml-language-server: $schema=...`). Refinements the schema cannot express",
    "(durations, patterns the kubelet would never match, options that go together) are checked by `credmux validate`.",
    "Durations are Go durations: `30s`, `5m`, `1h30m`. Relative paths are relative to the config file.",
    "",
    "## Top level",
    "",
    table(top),
    "",
    "## Provider entries",
    "",
    "Every entry of `providers` has these fields, and the options of its `type`:",
    "",
    table(common),
    "",
    KUBELET_ENTRIES,
    "",
    "## Provider types",
    "",
    ...sections,
    "### `module`",
    "",
    "An operator's own provider: `module` is the path of a CommonJS or ES module (relative to the config file) exporting",
    "`{ type, create(options, env), options?, defaultMatchImages? }` (src/provider.ts); the entry's other fields are its",
    "options, checked by its `options` schema when it has one, on every run. `test/fixtures/providers/scripted-provider.js`",
    "is an example.",
    "",
  ].join("\n");
}

/** How the kubelet reaches credmux's providers: the same for every type, so written once here. */
const KUBELET_ENTRIES = `## Kubelet entries, \`--entry\` and \`NODE_OPTIONS\`

\`credmux kubelet-config\` and \`credmux install\` write credmux's entries into the kubelet's
\`CredentialProviderConfig\`:

- one entry named \`credmux\`, running \`--config PATH --entry node\`, for every provider without
  \`tokenAttributes\`, whose \`matchImages\` are all of theirs (and the mirrors' \`from\`);
- one entry \`credmux-AUDIENCE\` for each service-account audience, running
  \`--config PATH --entry service-account:AUDIENCE\`: the kubelet has one \`tokenAttributes\` per entry,
  and requests a service-account token only for the images of that entry. The providers of one
  audience share it, with \`tokenAttributes\` that fit all of them. \`install\` links the name to the
  same executable in the bin dir.

The args name no provider: renaming a provider, or adding one whose patterns an entry already lists,
changes nothing the kubelet runs. A provider for new registries needs their patterns in an entry:
\`credmux validate --kubelet-config FILE\` reports such drift, and \`credmux install\` (or
\`kubelet-config --merge\`) writes the entries again; the kubelet reads its config only when it starts.
Entries written by older versions (\`--provider NAME[,NAME...]\`) keep working as they did, with a
warning on every exec.

Each entry sets \`NODE_OPTIONS\` to \`""\` in \`env\`: the kubelet passes its own environment to the
plugin, with the entry's \`env\` after it, so a \`NODE_OPTIONS\` in the kubelet's environment (a
\`--require\` of some file) would run code inside a Node-bundle credmux that holds registry secrets.
The single executable ignores \`NODE_OPTIONS\` anyway; the entry covers a bundle installed instead.`;

/** docs/config.schema.json: the whole config, each provider entry checked against its type's options. */
export async function configJsonSchema(): Promise<JsonSchema> {
  const schemas = await referenceSchemas();
  const describe = (schema: JsonSchema, descriptions: Descriptions, prefix = ""): JsonSchema => {
    const copy: JsonSchema = { ...schema };
    if (schema.properties) {
      copy.properties = Object.fromEntries(Object.entries(schema.properties).map(([name, child]) => {
        const at = prefix ? `${prefix}.${name}` : name;
        const described = describe(child, descriptions, at);
        return [name, descriptions[at] ? { ...described, description: descriptions[at] } : described];
      }));
    }
    if (schema.items?.properties) copy.items = describe(schema.items, descriptions, `${prefix}[]`);
    if (typeof schema.additionalProperties === "object" && schema.additionalProperties.properties) copy.additionalProperties = describe(schema.additionalProperties, descriptions, `${prefix}.*`);
    return copy;
  };
  const common = describe(schemas.common, PROVIDER_COMMON_DESCRIPTIONS);
  const entry = (type: string, options: JsonSchema, open: boolean): JsonSchema => ({
    type: "object",
    properties: { ...common.properties, type: { const: type }, ...options.properties },
    required: [...new Set([...(common.required ?? []), ...(options.required ?? [])])],
    additionalProperties: open,
  });
  const entries = builtinTypes().map((type) => entry(type, describe(schemas.providers[type]!, schemas.optionDescriptions[type]!), false));
  entries.push(entry("module", { properties: { module: { type: "string", minLength: 1, description: "The provider module's path, relative to the config file." } }, required: ["module"] }, true));
  const config = describe(schemas.config, CONFIG_DESCRIPTIONS);
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: `credmux config (${CONFIG_API_VERSION})`,
    ...config,
    properties: { ...config.properties, providers: { ...config.properties!.providers, items: { anyOf: entries } } },
  };
}

// docs/config-reference.md and docs/config.schema.json are generated from the zod schemas
// (src/reference/config-reference.ts): the committed files must be what the schemas make now, and
// every field of every schema must have a description (an option without one fails the generator).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { builtinProviders } from "../providers/registry.js";
import { configJsonSchema, renderConfigReference } from "../src/reference/config-reference.js";
import { REPO_ROOT } from "./helpers/paths.js";

const DOCS = path.join(REPO_ROOT, "docs");

/** A built-in type's option descriptions, as its definition holds them (the object itself, for the test that edits it). */
async function optionDescriptions(type: string): Promise<Record<string, string>> {
  const loaded = await builtinProviders[type]!() as { default: { optionDescriptions?: Record<string, string>; default?: { optionDescriptions?: Record<string, string> } } };
  const descriptions = loaded.default.optionDescriptions ?? loaded.default.default?.optionDescriptions;
  assert.ok(descriptions, `providers/${type}.ts describes its options`);
  return descriptions;
}

test("docs/config-reference.md is what the schemas make (npm run docs writes it)", async () => {
  assert.equal(fs.readFileSync(path.join(DOCS, "config-reference.md"), "utf8"), await renderConfigReference(),
    "docs/config-reference.md differs from the schemas: run npm run docs and commit it");
});

test("docs/config.schema.json is what the schemas make (npm run docs writes it)", async () => {
  assert.equal(fs.readFileSync(path.join(DOCS, "config.schema.json"), "utf8"), `${JSON.stringify(await configJsonSchema(), null, 2)}\n`,
    "docs/config.schema.json differs from the schemas: run npm run docs and commit it");
});

test("the reference has a section for every built-in provider type, naming each of its options", async () => {
  const reference = await renderConfigReference();
  for (const type of Object.keys(builtinProviders)) {
    const section = reference.split(`### \`${type}\`\n`)[1]?.split("\n### ")[0];
    assert.ok(section, `a section for ${type}`);
    for (const option of Object.keys(await optionDescriptions(type))) assert.ok(section.includes(`| \`${option}\` |`), `${type}: ${option}`);
  }
  // What an operator guessed wrong: the option is accessKeySecretFile, and there is no accessKeySecret.
  assert.match(reference, /\| `accessKeySecretFile` \|/);
  assert.doesNotMatch(reference, /\| `accessKeySecret` \|/);
});

test("an option without a description, or a description of no option, fails the generator with both named", async () => {
  const alibaba = await optionDescriptions("alibaba");
  const saved = alibaba.accessKeySecretFile!;
  delete alibaba.accessKeySecretFile;
  alibaba.accessKeySecret = "a guess";
  try {
    await assert.rejects(renderConfigReference(), {
      message: `providers/alibaba.ts, optionDescriptions: no description of accessKeySecretFile; a description of accessKeySecret, which the schema does not have`,
    });
  } finally {
    delete alibaba.accessKeySecret;
    alibaba.accessKeySecretFile = saved;
  }
});

test("the JSON Schema checks each provider entry against its type's options, with descriptions", async () => {
  const schema = await configJsonSchema() as any;
  const entries = schema.properties.providers.items.anyOf as any[];
  const alibaba = entries.find((entry) => entry.properties.type.const === "alibaba");
  assert.equal(alibaba.additionalProperties, false);
  assert.ok(alibaba.properties.accessKeySecretFile.description);
  assert.ok(alibaba.properties.matchImages.description, "with the common fields");
  assert.deepEqual(entries.map((entry) => entry.properties.type.const), [...Object.keys(builtinProviders), "module"]);
});

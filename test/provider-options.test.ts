// A provider's options schema (src/provider-options.ts): `options: () => schema`, built once per
// definition when options are first checked, never by loading the provider; an operator's module
// may still export the schema itself. What a module gets wrong is a config error naming it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../src/config.js";
import { loadProviderDefinition } from "../src/provider-loader.js";
import { providerOptionsSchema } from "../src/provider-options.js";
import { trustedTempDir, writeConfig } from "./helpers/temp.js";

/** A provider module whose options are `optionsSource` (JavaScript), counting the calls of a function form in globalThis.optionsBuilt. */
function writeModule(dir: string, name: string, optionsSource: string): string {
  const file = path.join(dir, `${name}.js`);
  fs.writeFileSync(file, `const wantsMode = { safeParse: (v) => v.mode === "fast" ? { success: true, data: { mode: "fast", checked: true } } : { success: false, error: { issues: [{ code: "custom", path: ["mode"], message: "mode must be fast", input: v.mode }] } } };
module.exports = {
  type: ${JSON.stringify(name)},
  options: ${optionsSource},
  create: (options) => async (request) => ({ auth: { [request.registry]: { username: JSON.stringify(options), password: "pw" } } }),
};\n`);
  return file;
}

const FUNCTION_FORM = "() => { globalThis.optionsBuilt = (globalThis.optionsBuilt ?? 0) + 1; return wantsMode; }";

test("options as a function: not built by loading the provider, built once when options are first checked, its output the provider's options", async () => {
  const dir = trustedTempDir();
  const module = writeModule(dir, "lazy", FUNCTION_FORM);
  const built = () => (globalThis as { optionsBuilt?: number }).optionsBuilt ?? 0;
  const definition = await loadProviderDefinition("module", { module }, { dir, shown: "test", at: "providers[0]" });
  assert.equal(built(), 0, "loading builds no schema");
  const config = writeConfig(dir, { providers: [{ name: "lazy", type: "module", module, matchImages: ["reg.options.test"], mode: "fast" }] });
  const first = await loadConfig(config);
  const second = await loadConfig(config);
  assert.equal(built(), 1, "built once for the definition");
  assert.equal(providerOptionsSchema(definition), providerOptionsSchema(definition));
  assert.deepEqual(first.providers[0]!.options, { mode: "fast", checked: true });
  assert.deepEqual(second.providers[0]!.options, { mode: "fast", checked: true });
});

test("a module's options, in either form, refuse a bad entry with the same message", async () => {
  const dir = trustedTempDir();
  for (const [name, source] of [["function-form", FUNCTION_FORM], ["schema-form", "wantsMode"]] as const) {
    const module = writeModule(dir, name, source);
    const config = writeConfig(dir, { providers: [{ name, type: "module", module, matchImages: ["reg.options.test"], mode: "slow" }] }, `${name}.json`);
    await assert.rejects(loadConfig(config), { message: `config ${config}: providers[0].mode (provider "${name}"): mode must be fast, found a string` }, name);
  }
});

test("a module whose options give no schema is a config error naming the module, with the fix", async () => {
  const dir = trustedTempDir();
  const cases: Array<{ name: string; options: string; reason: string; hint: string }> = [
    { name: "returns-number", options: "() => 42", reason: "its options() returned no schema with safeParse()", hint: "make options a function returning a zod schema, or leave it out" },
    { name: "throws", options: "() => { throw new Error(\"no schema today\"); }", reason: "its options() failed: no schema today", hint: "make options a function returning a zod schema, or leave it out" },
    { name: "number", options: "5", reason: "its options schema has no safeParse()", hint: "export options as a function returning a zod schema, or leave options out" },
  ];
  for (const { name, options, reason, hint } of cases) {
    const module = writeModule(dir, name, options);
    const config = writeConfig(dir, { providers: [{ name, type: "module", module, matchImages: ["reg.options.test"] }] }, `${name}.json`);
    await assert.rejects(loadConfig(config), { message: `config ${config}: providers[0] (provider "${name}"): module ${module}: ${reason}`, hint }, name);
  }
});

// A provider's options schema, built when the core first checks options with it and kept for its
// definition: building zod schemas is most of what validating costs, and a run whose config was
// noted as valid (src/startup/config-snapshot.ts) checks no built-in's options, so it builds none.
import { describeError } from "./errors.js";
import type { OptionsSchema, ProviderDefinition } from "./provider.js";

const built = new WeakMap<object, OptionsSchema<unknown>>();

/**
 * The schema of the definition's options: options() called once per definition, or the schema
 * itself for a module that exports one; undefined when it has none. Throws an Error saying why
 * when options() throws or returns no schema (an operator's module may).
 */
export function providerOptionsSchema(definition: ProviderDefinition<unknown>): OptionsSchema<unknown> | undefined {
  const options = definition.options;
  if (options === undefined) return undefined;
  if (typeof (options as Partial<OptionsSchema<unknown>>).safeParse === "function") return options as OptionsSchema<unknown>;
  let schema = built.get(definition);
  if (schema === undefined) {
    try {
      schema = (options as () => OptionsSchema<unknown>)();
    } catch (error) {
      throw new Error(`its options() failed: ${describeError(error)}`, { cause: error });
    }
    if (typeof (schema as Partial<OptionsSchema<unknown>> | undefined)?.safeParse !== "function") throw new Error("its options() returned no schema with safeParse()");
    built.set(definition, schema);
  }
  return schema;
}

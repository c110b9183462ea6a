// The field names a zod/mini object schema accepts at a path inside it: what "did you mean" picks
// from when a config has an unknown field. Reads zod's own definition (`_zod.def`), through the
// wrappers the config's schemas use (optional, arrays, records, checks).

interface ZodDef {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  element?: unknown;
  valueType?: unknown;
}

const defOf = (schema: unknown): ZodDef | undefined => (schema as { _zod?: { def?: ZodDef } } | undefined)?._zod?.def;

/** The fields of the object schema at `path` in `schema` ([] when there is none there). */
export function knownFields(schema: unknown, path: readonly PropertyKey[]): string[] {
  let def = defOf(schema);
  for (let step = 0; def !== undefined; ) {
    if (def.type === "optional" || def.type === "nullable" || def.type === "default") {
      def = defOf(def.innerType);
    } else if (step === path.length) {
      return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
    } else if (def.type === "object" && def.shape && typeof path[step] === "string" && Object.hasOwn(def.shape, path[step] as string)) {
      def = defOf(def.shape[path[step] as string]);
      step++;
    } else if (def.type === "array" && typeof path[step] === "number") {
      def = defOf(def.element);
      step++;
    } else if (def.type === "record") {
      def = defOf(def.valueType);
      step++;
    } else {
      return [];
    }
  }
  return [];
}

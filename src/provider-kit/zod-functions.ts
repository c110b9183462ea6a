// The zod/mini functions credmux's schemas are written with, by name, so that the rest of zod stays
// out of the bundle. Loaded through src/provider-kit/schema.ts, on first use.
export {
  array, boolean, enum, int, literal, looseObject, maximum, minimum, minLength, optional,
  record, refine, regex, strictObject, string, superRefine, union,
} from "zod/mini";

// The zod/mini functions credmux's schemas are written with: the config's, the disk cache's and
// every built-in provider's options. One module, which the core offers to provider chunks
// (src/core-modules.ts), so that the bundle holds one copy of them: bundled into each chunk, they
// were some 12 KB of every provider's 20, which every exec's read and parse of the bundle paid for.
// Naming the functions keeps the rest of zod out of the bundle, as importing them one by one did.
export {
  array, boolean, enum, int, lazy, literal, looseObject, maximum, minimum, minLength, number, optional,
  record, refine, regex, strictObject, string, superRefine, union,
} from "zod/mini";
export type { infer } from "zod/mini";

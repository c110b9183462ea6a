// The zod/mini functions credmux's schemas are written with: the config's and every built-in
// provider's options. One module, which the core offers to provider chunks (src/startup/deferred.ts),
// so that the bundle holds one copy of them: bundled into each chunk, they were some 12 KB of every
// provider's 20, which every exec's read and parse of the bundle paid for.
// zod itself (src/provider-kit/zod-functions.ts) is initialised when the first schema is built, not as the
// bundle starts: an exec whose config was validated before (src/startup/config-snapshot.ts) builds none,
// and zod's initialisation and its share of the code cache cost every exec most of a millisecond.
import type * as zod from "./zod-functions.js";

type Zod = typeof zod;
let loaded: Zod | undefined;

function load(): Zod {
  // require(), not import: esbuild then initialises the module when this runs, not at start-up.
  loaded ??= require("./zod-functions.js") as Zod;
  return loaded;
}

/** zod's function `name`, loading zod on its first call. */
function onFirstCall<K extends keyof Zod>(name: K): Zod[K] {
  return ((...args: unknown[]) => (load()[name] as (...args: unknown[]) => unknown)(...args)) as Zod[K];
}

export const array = onFirstCall("array");
export const boolean = onFirstCall("boolean");
const enumFunction = onFirstCall("enum");
export { enumFunction as enum };
export const int = onFirstCall("int");
export const literal = onFirstCall("literal");
export const looseObject = onFirstCall("looseObject");
export const maximum = onFirstCall("maximum");
export const minimum = onFirstCall("minimum");
export const minLength = onFirstCall("minLength");
export const optional = onFirstCall("optional");
export const record = onFirstCall("record");
export const refine = onFirstCall("refine");
export const regex = onFirstCall("regex");
export const strictObject = onFirstCall("strictObject");
export const string = onFirstCall("string");
export const superRefine = onFirstCall("superRefine");
export const union = onFirstCall("union");
export type { infer } from "zod/mini";


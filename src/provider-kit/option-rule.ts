// Rules across several options of one provider entry ("exactly one of secretFile and secretEnv"),
// as zod/mini checks. Unlike z.refine, the issue carries no input: the config loader would print
// the whole entry as "found an object", which says nothing the message does not.
import * as z from "./schema.js";

/** A check that fails with message (at path, if given) when holds(value) is false. */
export function optionRule<T>(holds: (value: T) => boolean, message: string, path?: PropertyKey[]) {
  return z.superRefine<T>((value, ctx) => {
    if (!holds(value)) ctx.addIssue({ code: "custom", message, input: undefined, ...(path ? { path } : {}) });
  });
}

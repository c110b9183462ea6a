// In a deferred chunk, every import of a src/ module, from any depth, is left to the running core
// ("credmux-core:src/NAME.ts"): one ProviderError class, one http client, and no second copy of
// core code in any chunk. The modules met are noted, for the core's module table.
import type { Plugin } from "esbuild";
import { CORE_MODULE_PREFIX } from "../../src/startup/deferred-names.js";
import { pathInside, resolveOwnImport } from "./resolve-own.js";

/** The directory of the core's code. */
export const CORE_DIR = "src";

/** Makes each import of a file under src/ external as credmux-core:PATH, and adds PATH to `used`. */
export function coreImportsPlugin(root: string, used: Set<string>): Plugin {
  return {
    name: "credmux-core-imports",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        const file = await resolveOwnImport(b, args);
        const relative = file && pathInside(root, CORE_DIR, file);
        if (!relative) return undefined;
        used.add(relative);
        return { path: `${CORE_MODULE_PREFIX}${relative}`, external: true };
      });
    },
  };
}

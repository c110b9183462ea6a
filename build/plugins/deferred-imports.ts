// The one deferral rule: an import() whose target is a file under providers/ is not bundled into
// its importer. The file becomes a deferred chunk of its own (build/deferred-sections.ts), and the
// import() becomes code that loads that chunk on first use (src/startup/deferred.ts), whoever the importer
// is: the main code (the provider registry's entries) or another chunk (a provider's own heavy
// dependency).
import type { Plugin } from "esbuild";
import { DEFERRED_CHUNK_PREFIX } from "../../src/startup/deferred-names.js";
import { CORE_MODULE_TABLE } from "./core-module-table.js";
import { pathInside, resolveOwnImport } from "./resolve-own.js";

/** The directory whose files an import() defers. */
export const DEFERRED_DIR = "providers";
const NAMESPACE = "credmux-deferred-import";

/** A chunk's section name: its file's path from the root without the extension ("providers/NAME"). */
export function chunkName(relativePath: string): string {
  return relativePath.replace(/\.[cm]?[jt]s$/, "");
}

/** What an import() of the chunk `name` becomes in the main code: a load with the core's module table. */
export function mainCodeLoad(name: string): string {
  return [
    `import { ${CORE_MODULE_TABLE.exportName} } from ${JSON.stringify(CORE_MODULE_TABLE.specifier)};`,
    `import { loadDeferredChunk } from "./src/startup/deferred.ts";`,
    `module.exports = loadDeferredChunk(${JSON.stringify(name)}, ${CORE_MODULE_TABLE.exportName});`,
  ].join("\n");
}

/** What an import() of the chunk `name` becomes in another chunk: a require() that src/startup/deferred.ts answers with it. */
export function chunkLoad(name: string): string {
  return `module.exports = require(${JSON.stringify(`${DEFERRED_CHUNK_PREFIX}${name}`)});`;
}

/**
 * Turns each import() of a file under providers/ into `load(NAME)`, and notes NAME and the file in
 * `found`. `root` is the project's root: the load code is resolved there.
 */
export function deferredImportsPlugin(root: string, found: Map<string, string>, load: (name: string) => string): Plugin {
  return {
    name: "credmux-deferred-imports",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, async (args) => {
        if (args.kind !== "dynamic-import") return undefined;
        const file = await resolveOwnImport(b, args);
        const relative = file && pathInside(root, DEFERRED_DIR, file);
        if (!relative) return undefined;
        const name = chunkName(relative);
        found.set(name, file);
        return { path: name, namespace: NAMESPACE };
      });
      b.onResolve({ filter: new RegExp(`^${DEFERRED_CHUNK_PREFIX}`) }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({ contents: load(args.path), resolveDir: root, loader: "js" }));
    },
  };
}

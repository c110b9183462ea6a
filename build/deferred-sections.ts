// The deferred modules (src/startup/deferred.ts), each bundled on its own: the core's libraries, and the
// chunks: every file under providers/ that something imports with import(), found from the main
// code's entry, then from each chunk in turn (a chunk's own import() of such a file is one more).
import { DEFERRED_LIBRARIES } from "../src/startup/deferred-names.js";
import { bundleCjs } from "./esbuild-cjs.js";
import { builtinDefaultsPlugin } from "./plugins/builtin-defaults.js";
import { coreImportsPlugin } from "./plugins/core-imports.js";
import { chunkLoad, deferredImportsPlugin } from "./plugins/deferred-imports.js";
import type { Project } from "./project.js";

export interface DeferredCode {
  /** Each deferred module's name and its code, minified CommonJS that sets module.exports: the libraries, then the chunks by name. */
  modules: Array<[name: string, code: string]>;
  /** The src/ modules the chunks import, by path from the root: what the main code's module table offers them. */
  coreModules: string[];
}

/**
 * Options every deferred module is bundled with: minified, and compiled through node:vm
 * (src/startup/code-cache.ts), where import() fails: an import() of a package or built-in becomes a require().
 */
const DEFERRED_OPTIONS = { minify: true, supported: { "dynamic-import": false } } as const;

/** The chunks that the code at `entry` imports with import() (the main code's, when `entry` is src/main.ts). */
export async function deferredImportsOf(project: Project, entry: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  await bundleCjs({ entryPoints: [entry], packages: "external", plugins: [builtinDefaultsPlugin, deferredImportsPlugin(project.root, found, chunkLoad)] });
  return found;
}

/** The libraries and every chunk reachable from `chunks` (name to file), bundled. */
export async function bundleDeferredCode(project: Project, chunks: ReadonlyMap<string, string>): Promise<DeferredCode> {
  const libraries = await Promise.all(DEFERRED_LIBRARIES.map(async (name): Promise<[string, string]> => [name, await bundleLibrary(project, name)]));
  const coreModules = new Set<string>();
  const bundled = new Map<string, string>();
  let pending = new Map(chunks);
  while (pending.size > 0) {
    const found = new Map<string, string>();
    await Promise.all([...pending].map(async ([name, file]) => {
      bundled.set(name, await bundleChunk(project, file, coreModules, found));
    }));
    pending = new Map([...found].filter(([name]) => !bundled.has(name)));
  }
  const byName = [...bundled].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return { modules: [...libraries, ...byName], coreModules: [...coreModules].sort() };
}

/** A library, from its package as Node resolves it. */
function bundleLibrary(project: Project, name: string): Promise<string> {
  return bundleCjs({ stdin: { contents: `module.exports = require(${JSON.stringify(name)});`, resolveDir: project.root, loader: "js" }, ...DEFERRED_OPTIONS });
}

/**
 * A chunk: the file and what it imports, but the core's modules (left to the running core, and
 * noted in `coreModules`) and other chunks (noted in `found`). Packages come from their ES module
 * builds where they have one, so that what the chunk does not use is left out (an SDK's unused
 * commands and clients: a third of its code).
 */
function bundleChunk(project: Project, file: string, coreModules: Set<string>, found: Map<string, string>): Promise<string> {
  return bundleCjs({
    entryPoints: [file],
    ...DEFERRED_OPTIONS,
    mainFields: ["module", "main"],
    plugins: [builtinDefaultsPlugin, deferredImportsPlugin(project.root, found, chunkLoad), coreImportsPlugin(project.root, coreModules)],
  });
}

// Heavy code is not part of what V8 parses when credmux starts: parsing 200 KB of never-run code
// costs about 6 ms, a third of a bare node start. Two kinds of module are deferred:
//   the core's libraries (DEFERRED_LIBRARIES: yaml, pino, lru-cache), loaded with loadDeferred(name);
//   every module under providers/ that something imports with import() (each provider, from
//     providers/registry.ts; a provider's own heavy dependency, from the provider): the build
//     turns that import() into loadDeferredChunk(NAME), NAME being the file's path without ".ts".
// The build bundles each one separately, compresses it and appends it to dist/credmux.cjs as one
// comment line, which V8 only skims (src/startup/bundle-format.ts); loading one reads that line's bytes,
// decompresses and compiles it on first use. In the single executable they are SEA assets instead.
// Outside the bundle (tests, type checks) the ordinary require() and import() are used.
import path from "node:path";
import { bootHost } from "./boot-host.js";
import { deferredSectionSource, readSections } from "./bundle-format.js";
import { compileCommonJs, type CodeCacheStore } from "./code-cache.js";
import { CORE_MODULE_PREFIX, DEFERRED_CHUNK_PREFIX, type DeferredLibrary } from "./deferred-names.js";

declare const __CREDMUX_BUNDLE__: boolean | undefined;

/** The running core's modules a chunk may require, by path from the root ("src/errors.ts"); the build generates the table. */
export type CoreModules = Readonly<Record<string, unknown>>;

const loaded = new Map<string, unknown>();

/** Returns the library `name`, compiling it from the bundle's deferred section on first use. */
export function loadDeferred<T>(name: DeferredLibrary): T {
  const cached = loaded.get(name);
  if (cached !== undefined) return cached as T;
  const exports = typeof __CREDMUX_BUNDLE__ === "undefined" ? requireFromDisk(name) : compileDeferred(name, require);
  loaded.set(name, exports);
  return exports as T;
}

function requireFromDisk(name: string): unknown {
  // A parameter, not a literal, so that esbuild leaves this require() alone.
  return require(name);
}

/** Returns the deferred chunk `name` (the module providers/… it was bundled from), compiling it on first use. */
export function loadDeferredChunk(name: string, coreModules: CoreModules): unknown {
  const cached = loaded.get(name);
  if (cached !== undefined) return cached;
  // What the chunk's require() hands it: the running core's modules, other chunks, and built-ins.
  const requireForChunk = ((id: string) => {
    if (id.startsWith(CORE_MODULE_PREFIX)) {
      const core = coreModules[id.slice(CORE_MODULE_PREFIX.length)];
      if (core === undefined) throw new Error(`deferred module ${name} needs the core module ${id.slice(CORE_MODULE_PREFIX.length)}, which this build does not offer; rebuild it with build.mjs`);
      return core;
    }
    if (id.startsWith(DEFERRED_CHUNK_PREFIX)) return loadDeferredChunk(id.slice(DEFERRED_CHUNK_PREFIX.length), coreModules);
    return require(id);
  }) as NodeJS.Require;
  const exports = compileDeferred(name, requireForChunk);
  loaded.set(name, exports);
  return exports;
}

function compileDeferred(name: string, requireModule: NodeJS.Require): unknown {
  // With the code caches boot.ts keeps (none when the main code was not compiled by it).
  const host = bootHost() ?? { codeCache: undefined, buildId: "", importModule: (specifier: string) => import(specifier) };
  const source = readSeaAsset(name) ?? readDeferredSource(name, host.codeCache);
  // A plain module object and this code's own require(), for the built-ins a deferred module needs:
  // a node:module Module would cost loading node:module, 0.4 ms of the exec.
  const mod = { exports: {} as unknown };
  const filename = `${__filename}#${name}`;
  compileCommonJs(host, name, source, filename).call(mod.exports, mod.exports, requireModule, mod as NodeJS.Module, filename, path.dirname(__filename), host);
  return mod.exports;
}

let sea: typeof import("node:sea") | null | undefined;

/**
 * In the single executable the deferred modules are SEA assets (build.mjs --sea), read from the
 * blob in memory: __filename is then the 100 MB executable, which is not read. undefined outside one.
 */
function readSeaAsset(name: string): string | undefined {
  if (sea === undefined) {
    try {
      // A variable, so that esbuild leaves the require alone; node:sea is missing before Node 20.12.
      const id = "node:sea";
      sea = (require(id) as typeof import("node:sea")).isSea() ? require(id) as typeof import("node:sea") : null;
    } catch {
      sea = null;
    }
  }
  if (sea === null) return undefined;
  try {
    return sea.getAsset(name, "utf8");
  } catch {
    throw new Error(`the single executable ${process.execPath} has no deferred module ${name}; rebuild it with build.mjs --sea`);
  }
}

/**
 * A deferred section holds its module encoded, a large one compressed (src/startup/bundle-format.ts). The text decoded is
 * handed to the code cache store, which keeps it for the next exec; the text it kept is used
 * instead of reading the section and decompressing it again: the store keeps it under this
 * build's id, a hash of every section's text, so it is this section's.
 */
function readDeferredSource(name: string, store: CodeCacheStore | undefined): string {
  const kept = store?.readSource(name);
  if (kept !== undefined) return kept;
  const text = readSections(__filename, [name])?.get(name)?.toString("latin1");
  if (text === undefined) throw new Error(`the bundle ${__filename} has no deferred module ${name}; rebuild it with build.mjs`);
  // node:zlib is loaded only for a compressed section.
  const source = deferredSectionSource(text, (data) => (require("node:zlib") as typeof import("node:zlib")).brotliDecompressSync(data));
  if (source === undefined) throw new Error(`the bundle ${__filename} holds deferred module ${name} in an encoding this build does not read; rebuild it with build.mjs`);
  store?.decompressed(name, source);
  return source;
}

// dist/credmux.cjs: the start-up loader, the main code, and each deferred module compressed on a
// comment line of its own (the layout: src/startup/bundle-format.ts), so that a request that does not need
// a deferred module never parses it.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { deferredSectionText, formatBundle } from "../src/startup/bundle-format.js";
import { bundleBootLoader } from "./boot-loader.js";
import { buildId } from "./build-id.js";
import { bundleDeferredCode, deferredImportsOf } from "./deferred-sections.js";
import { bundleCjs } from "./esbuild-cjs.js";
import { builtinDefaultsPlugin } from "./plugins/builtin-defaults.js";
import { coreModuleTablePlugin } from "./plugins/core-module-table.js";
import { deferredImportsPlugin, mainCodeLoad } from "./plugins/deferred-imports.js";
import type { Project } from "./project.js";

/** Builds dist/credmux.cjs (mode 0755) and returns its path. `minify: false` keeps function names, for `node --cpu-prof`. */
export async function buildBundle(project: Project, { minify = true }: { minify?: boolean } = {}): Promise<string> {
  const entry = path.join(project.root, "src", "main.ts");
  const chunks = await deferredImportsOf(project, entry);
  const deferred = await bundleDeferredCode(project, chunks);
  const main = await bundleMain(project, entry, deferred.coreModules, { minify });
  if (main.chunks.size !== chunks.size || [...chunks.keys()].some((name) => !main.chunks.has(name))) {
    throw new Error(`build: the main code's deferred imports changed between two bundlings: ${[...chunks.keys()]} and ${[...main.chunks.keys()]}`);
  }
  const sections = deferred.modules.map(([name, code]): [string, string] => [name, deferredSectionText(code, compress)]);
  const loader = await bundleBootLoader(project, { variant: "bundle", id: buildId(main.code, sections), minify });
  const out = path.join(project.root, "dist", "credmux.cjs");
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, formatBundle(loader, main.code, sections), { mode: 0o755 });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, out);
  return out;
}

/** The main code: the CLI and all it imports, but the chunks, which its import()s load; with the core's module table for them. */
async function bundleMain(project: Project, entry: string, coreModules: readonly string[], { minify }: { minify: boolean }) {
  const chunks = new Map<string, string>();
  const code = await bundleCjs({
    entryPoints: [entry],
    minify,
    charset: "ascii",
    define: { __CREDMUX_BUNDLE__: "true", __CREDMUX_VERSION__: JSON.stringify(project.version) },
    plugins: [builtinDefaultsPlugin, deferredImportsPlugin(project.root, chunks, mainCodeLoad), coreModuleTablePlugin(project.root, coreModules)],
  });
  return { code, chunks };
}

/**
 * Brotli at its best for text: Node reads the whole bundle on every exec and V8 scans past its
 * comments, and 750 KB of plain comments cost ~3 ms of that; compressed they are a third of the size.
 * Decompressing needs node:zlib, but only once per build: the text is kept beside the module's
 * code cache (src/startup/code-cache.ts).
 */
function compress(code: Buffer): Buffer {
  return zlib.brotliCompressSync(code, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT },
  });
}

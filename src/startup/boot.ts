// The executable's entry, and the only code Node compiles from source on every exec: it compiles
// the main code (src/main.ts: a section of the bundle, or an asset of the single executable) with
// a V8 code cache (code-cache.ts), and hands the main code the same store for the deferred modules,
// and import() (boot-host.ts).
//   bundle: the code caches live in the config's cache.dir. A kubelet-plugin run that found none
//     for a module, or one V8 refused, writes it as it exits. Only a JSON config is read for
//     cache.dir here; a YAML one would need the yaml parser, which costs more than the cache
//     saves, and such runs compile from source.
//   single executable: the code caches were made by the same Node at build time (build/sea-training.ts).
import fs from "node:fs";
import path from "node:path";
import { parseArgs, VALUED_FLAGS } from "../args.js";
import type { BootHost } from "./boot-host.js";
import { AssetCodeCache, compileCommonJs, DirectoryCodeCache, type CodeCacheStore } from "./code-cache.js";
import { configPath, isJsonConfig, resolveCacheDir } from "../config-location.js";
import { readMainSection } from "./bundle-format.js";

declare const __CREDMUX_BOOT__: "bundle" | "sea";
/** A hash of the main code and the deferred modules (build/build-id.ts): names this build's code caches. */
declare const __CREDMUX_BUILD_ID__: string;

/** The config's largest size (config.ts refuses bigger ones with an error; here they only mean no cache). */
const MAX_CONFIG_BYTES = 1 << 20;

function fail(message: string): never {
  fs.writeSync(2, `credmux: ${message}\n`);
  process.exit(1);
}

/** The on-disk cache directory a JSON config names; "" when there is none or it cannot be told cheaply. */
function configuredCacheDir(flag: string | true | undefined): string {
  try {
    const file = path.resolve(configPath(typeof flag === "string" ? flag : undefined, process.env));
    if (fs.statSync(file).size > MAX_CONFIG_BYTES) return "";
    const text = fs.readFileSync(file, "utf8");
    if (!isJsonConfig(text)) return "";
    const dir = (JSON.parse(text.replace(/^\uFEFF/, "")) as { cache?: { dir?: unknown } } | null)?.cache?.dir;
    return dir === undefined || typeof dir === "string" ? resolveCacheDir(dir, path.dirname(file)) : "";
  } catch {
    // A missing or broken config: the main code reports it, with the file and the reason.
    return "";
  }
}

/** The bundle's store: cache.dir's code caches, written back only by a kubelet-plugin run that answered. */
function directoryStore(): CodeCacheStore | undefined {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(process.argv.slice(2), VALUED_FLAGS);
  } catch {
    return undefined; // a usage error: the main code reports it
  }
  const dir = configuredCacheDir(args.flags.get("config"));
  if (!dir) return undefined;
  const store = new DirectoryCodeCache(dir, __CREDMUX_BUILD_ID__);
  // Only the plugin's runs write: they are what the kubelet waits for, and the caches then hold
  // what the plugin compiled, not what `credmux validate` did.
  if (args.command === undefined && !args.flags.has("help") && !args.flags.has("version")) {
    process.on("exit", (code) => {
      if (code === 0) store.writeMissed();
    });
  }
  return store;
}

function boot(): void {
  let source: string | undefined;
  let store: CodeCacheStore | undefined;
  let filename: string;
  if (__CREDMUX_BOOT__ === "sea") {
    filename = process.execPath;
    const sea = require("node:sea") as typeof import("node:sea");
    try {
      source = sea.getAsset("main", "utf8");
    } catch {
      fail(`the single executable ${filename} has no main code; rebuild it with build.mjs --sea`);
    }
    store = new AssetCodeCache(sea.getRawAsset);
  } else {
    filename = __filename;
    try {
      source = readMainSection(filename);
    } catch (error) {
      fail(`cannot read the bundle ${filename} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    if (source === undefined) fail(`the bundle ${filename} has no main code; rebuild it with build.mjs`);
    store = directoryStore();
  }
  const host: BootHost = { codeCache: store, buildId: __CREDMUX_BUILD_ID__, importModule: (specifier) => import(specifier) };
  const main = compileCommonJs(host, "main", source, filename);
  main.call(module.exports, module.exports, require, module, filename, path.dirname(filename), host);
}

boot();

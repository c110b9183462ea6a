// V8 code caches: the main code and each deferred module compiled with the code V8 made for them
// in an earlier exec, so that it is not compiled again. Start-up is credmux's latency (a fresh
// process per kubelet cache miss), and compiling is most of what its code adds to a bare Node start.
//   on disk (the bundle): in the config's cache.dir. A code cache is compiled code, so it is
//     trusted under exactly the rule the credential entries are (cache/disk.ts): a regular file of
//     ours that nobody else can read or write, in a 0700 directory of ours, never through a
//     symlink. Anything else is not read, and the module is compiled from source.
//   assets (the single executable): made by the same Node at build time (build/sea-training.ts).
// Nothing here ever fails a run: a code cache only saves time.
import fs from "node:fs";
import path from "node:path";
import vm from "node:vm";
import type { BootHost } from "./boot-host.js";
import { ensurePrivateDirectory, isPrivateDirectory, readPrivateFile, writePrivateFile } from "./private-file.js";

export interface CodeCacheStore {
  /** The code cache of the module `name` of this build, if a usable one is there. */
  read(name: string): Uint8Array | undefined;
  /** Notes that `name` was compiled without a usable cache; a store that can, keeps V8's code for the next exec. */
  missed(name: string, script: vm.Script): void;
  /** Keeps none of this run's code: it ran code the next runs will not (config-snapshot.ts), and one of them keeps its own. */
  forgetMissed(): void;
  /** The text of the compressed deferred module `name` of this build, as an earlier exec decompressed it. */
  readSource(name: string): string | undefined;
  /** Notes the decompressed text of `name`; a store that can, keeps it for the next exec. */
  decompressed(name: string, text: string): void;
}

/** The text a module is compiled as: Node's own CommonJS wrapper, plus boot.ts's host (src/startup/boot-host.ts). */
export function wrapCommonJs(source: string): string {
  return `(function (exports, require, module, __filename, __dirname, __credmuxHost) {${source}\n})`;
}

export type CommonJsFunction = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string, host: BootHost) => void;

/**
 * Compiles a module's wrapped source with its code cache from the host's store, and tells the
 * store when there was none to use. The module cannot call import() (src/startup/boot-host.ts).
 */
export function compileCommonJs(host: BootHost, name: string, source: string, filename: string): CommonJsFunction {
  const store = host.codeCache;
  const cachedData = store?.read(name);
  const script = new vm.Script(wrapCommonJs(source), { filename, ...(cachedData ? { cachedData } : {}) });
  if (store && (cachedData === undefined || script.cachedDataRejected)) store.missed(name, script);
  return script.runInThisContext() as CommonJsFunction;
}

const MAX_CODE_CACHE_BYTES = 64 << 20;
const PREFIX = "code-";
/** V8's data, and a compressed module's text (see DirectoryCodeCache). */
const SUFFIXES = { data: ".v8", source: ".js" } as const;
/**
 * A file is "cmx2" and the data's length, then V8's data twice. V8 does not check a code cache's
 * integrity (a corrupt one could crash it or run other code), so a read uses the data only when
 * its two copies are equal, byte for byte: any damage to either shows, as a checksum's would, and
 * comparing 170 KB costs 0.04 ms where computing a checksum cost 1 ms (WebAssembly, whose engine
 * start is most of that) or 2 (JavaScript); node:crypto and node:zlib cost more to load.
 */
const HEADER_BYTES = 8;
const MAGIC = 0x32786d63;

/**
 * Code caches in a directory, one file per module. The file name holds the build id (a hash of the
 * main code and every deferred module, build/build-id.ts), the Node version and the CPU: V8 refuses a
 * cache made by another V8 or with other flags by itself, but of the source it compares only the length.
 * A compressed deferred module's text is kept beside its code cache, in the same format: reading
 * the AWS SDK's 350 KB costs 0.2 ms where loading node:zlib and decompressing it cost 4.
 */
export class DirectoryCodeCache implements CodeCacheStore {
  readonly #dir: string;
  readonly #buildId: string;
  readonly #missed = new Map<string, vm.Script>();
  readonly #decompressed = new Map<string, string>();
  #trusted: boolean | undefined;

  constructor(dir: string, buildId: string) {
    this.#dir = dir;
    this.#buildId = buildId;
  }

  file(name: string, kind: keyof typeof SUFFIXES = "data"): string {
    return path.join(this.#dir, `${PREFIX}${this.#buildId}-${name.replace(/[^\w.-]/g, "-")}-${process.version}-${process.arch}${SUFFIXES[kind]}`);
  }

  read(name: string): Uint8Array | undefined {
    return this.#read(this.file(name));
  }

  readSource(name: string): string | undefined {
    const text = this.#read(this.file(name, "source"));
    return text && Buffer.from(text.buffer, text.byteOffset, text.length).toString("utf8");
  }

  #read(file: string): Uint8Array | undefined {
    if (!this.#trustedDirectory()) return undefined;
    const bytes = readPrivateFile(file, MAX_CODE_CACHE_BYTES);
    return bytes && codeCacheData(bytes, true);
  }

  decompressed(name: string, text: string): void {
    this.#decompressed.set(name, text);
  }

  missed(name: string, script: vm.Script): void {
    this.#missed.set(name, script);
  }

  forgetMissed(): void {
    this.#missed.clear();
  }

  /**
   * Writes V8's code for every module compiled without a cache, and the text of every module
   * decompressed (beside, then renamed, mode 0600), and removes the files of other builds and Node
   * versions. Called as the run ends, so that each code cache holds every function the run
   * compiled, and after the config was validated (the run answered), so the directory is made as
   * the credential cache makes it: 0700, if it is not there yet.
   */
  writeMissed(): void {
    if (this.#missed.size === 0 && this.#decompressed.size === 0) return;
    this.#trusted = ensurePrivateDirectory(this.#dir);
    if (!this.#trusted) return;
    let written = 0;
    for (const [name, script] of this.#missed) {
      try {
        if (writePrivateFile(this.file(name), codeCacheFile(script.createCachedData()))) written++;
      } catch { /* V8 could not serialize it: the next exec compiles it again */ }
    }
    for (const [name, text] of this.#decompressed) {
      if (writePrivateFile(this.file(name, "source"), codeCacheFile(Buffer.from(text, "utf8")))) written++;
    }
    if (written > 0) this.#removeOtherBuilds();
  }

  #removeOtherBuilds(): void {
    const current = `${PREFIX}${this.#buildId}-`;
    const ours = `-${process.version}-${process.arch}`;
    try {
      for (const name of fs.readdirSync(this.#dir)) {
        const suffix = Object.values(SUFFIXES).find((candidate) => name.endsWith(candidate));
        if (name.startsWith(PREFIX) && suffix && !(name.startsWith(current) && name.endsWith(`${ours}${suffix}`))) fs.unlinkSync(path.join(this.#dir, name));
      }
    } catch { /* another exec removed it first */ }
  }

  /** Whether the directory is ours and closed to everyone else: the only place a code cache is read from or written to. */
  #trustedDirectory(): boolean {
    this.#trusted ??= isPrivateDirectory(this.#dir);
    return this.#trusted;
  }

}

/** The code cache file holding `data` (see HEADER_BYTES). */
export function codeCacheFile(data: Uint8Array): Buffer {
  const file = Buffer.allocUnsafe(HEADER_BYTES + 2 * data.length);
  file.writeUInt32LE(MAGIC, 0);
  file.writeUInt32LE(data.length, 4);
  file.set(data, HEADER_BYTES);
  file.set(data, HEADER_BYTES + data.length);
  return file;
}

/** V8's data in a code cache file; undefined if the header is wrong, or with `verify` if its two copies differ. */
export function codeCacheData(file: Uint8Array, verify: boolean): Uint8Array | undefined {
  if (file.length < HEADER_BYTES) return undefined;
  const header = new DataView(file.buffer, file.byteOffset, HEADER_BYTES);
  const length = header.getUint32(4, true);
  if (header.getUint32(0, true) !== MAGIC || file.length !== HEADER_BYTES + 2 * length) return undefined;
  const data = file.subarray(HEADER_BYTES, HEADER_BYTES + length);
  if (!verify) return data;
  return Buffer.compare(data, file.subarray(HEADER_BYTES + length)) === 0 ? data : undefined;
}

/**
 * Code caches made at build time (the files build/sea-training.ts's runs wrote), as assets of
 * the single executable ("code-cache:NAME"). Their copies are not compared: they are part of the
 * executable, as its code is.
 */
export class AssetCodeCache implements CodeCacheStore {
  readonly #getRawAsset: (key: string) => ArrayBuffer | string;

  constructor(getRawAsset: (key: string) => ArrayBuffer | string) {
    this.#getRawAsset = getRawAsset;
  }

  read(name: string): Uint8Array | undefined {
    try {
      const asset = this.#getRawAsset(`code-cache:${name}`);
      return typeof asset === "string" ? undefined : codeCacheData(new Uint8Array(asset), false);
    } catch {
      // Not built with a code cache (an arch this machine could not run): compiled from source.
      return undefined;
    }
  }

  missed(): void { /* made at build time only */ }

  forgetMissed(): void { /* made at build time only */ }

  /** The single executable's deferred modules are assets stored as text: nothing to decompress. */
  readSource(): undefined {
    return undefined;
  }

  decompressed(): void { /* nothing to keep */ }
}

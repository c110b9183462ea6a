// Heavy dependencies (yaml, pino, lru-cache, the AWS SDK) are not part of the code V8 parses when
// credmux starts: parsing 200 KB of never-run code costs about 6 ms, a third of a bare node start.
// build.mjs bundles each one separately, compresses it (brotli, base64) and appends it to
// dist/credmux.cjs as one comment line, which V8 only skims; loadDeferred() reads that line's bytes
// (src/bundle-sections.ts), decompresses and compiles it on first use. In the single executable
// they are SEA assets instead. Outside the bundle (tests, type checks) the ordinary require() is used.
import path from "node:path";
import { bootHost } from "./boot-host.js";
import { readSections } from "./bundle-sections.js";
import { compileCommonJs, type CodeCacheStore } from "./code-cache.js";

/** The dependencies build.mjs knows how to defer; keep in step with DEFERRED in build.mjs. */
export type DeferredName = "yaml" | "pino" | "lru-cache" | "aws-sdk";

/** The "aws-sdk" deferred module: what credmux uses of the three clients (build.mjs bundles only these). */
export interface AwsSdk {
  ECR: Pick<typeof import("@aws-sdk/client-ecr"), "ECRClient" | "GetAuthorizationTokenCommand">;
  ECRPublic: Pick<typeof import("@aws-sdk/client-ecr-public"), "ECRPUBLICClient" | "GetAuthorizationTokenCommand">;
  STS: Pick<typeof import("@aws-sdk/client-sts"), "STSClient" | "AssumeRoleCommand" | "AssumeRoleWithWebIdentityCommand">;
}

declare const __CREDMUX_BUNDLE__: boolean | undefined;

const loaded = new Map<string, unknown>();

/** Returns the module `name`, compiling it from the bundle's deferred section on first use. */
export function loadDeferred<T>(name: DeferredName): T {
  const cached = loaded.get(name);
  if (cached !== undefined) return cached as T;
  const exports = typeof __CREDMUX_BUNDLE__ === "undefined" ? requireFromDisk(name) : compileDeferred(name);
  loaded.set(name, exports);
  return exports as T;
}

function requireFromDisk(name: DeferredName): unknown {
  // Variables, not literals, so that esbuild leaves these require() calls alone.
  const load = (id: string): unknown => require(id);
  if (name === "aws-sdk") {
    return { ECR: load("@aws-sdk/client-ecr"), ECRPublic: load("@aws-sdk/client-ecr-public"), STS: load("@aws-sdk/client-sts") };
  }
  return load(name);
}

function compileDeferred(name: string, coreModules?: Readonly<Record<string, unknown>>): unknown {
  // With the code caches boot.ts keeps (none when the main code was not compiled by it).
  const host = bootHost() ?? { codeCache: undefined, buildId: "", importModule: (specifier: string) => import(specifier) };
  const source = readSeaAsset(name) ?? readDeferredSource(name, host.codeCache);
  // A plain module object and this code's own require(), for the built-ins a deferred module needs:
  // a node:module Module would cost loading node:module, 0.4 ms of the exec.
  const mod = { exports: {} as unknown };
  let requireModule = require;
  if (coreModules) {
    // A provider chunk imports core modules as "credmux-core:NAME": hand it the running ones.
    requireModule = ((id: string) => {
      if (!id.startsWith(CORE_PREFIX)) return require(id);
      const core = coreModules[id.slice(CORE_PREFIX.length)];
      if (core === undefined) throw new Error(`deferred module ${name} needs the core module ${id}, which src/core-modules.ts does not offer`);
      return core;
    }) as NodeJS.Require;
  }
  const filename = `${__filename}#${name}`;
  compileCommonJs(host, name, source, filename).call(mod.exports, mod.exports, requireModule, mod as NodeJS.Module, filename, path.dirname(__filename), host);
  return mod.exports;
}

const CORE_PREFIX = "credmux-core:";

/**
 * A built-in provider's module. In the bundle each provider but dockercfg is a deferred chunk
 * (build.mjs), compiled only when a config uses its type; elsewhere it is required from providers/.
 */
export function loadDeferredProvider(type: string, coreModules: Readonly<Record<string, unknown>>): unknown {
  const name = `provider:${type}`;
  const cached = loaded.get(name);
  if (cached !== undefined) return cached;
  const exports = compileDeferred(name, coreModules);
  loaded.set(name, exports);
  return exports;
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
 * A deferred section's text is `br DATA` (src/bundle-sections.ts): brotli, then base64. The text
 * decompressed is handed to the code cache store, which keeps it for the next exec; the text it
 * kept is used instead of decompressing again.
 */
function readDeferredSource(name: string, store: CodeCacheStore | undefined): string {
  const text = readSections(__filename, [name])?.get(name)?.toString("latin1");
  if (text === undefined) throw new Error(`the bundle ${__filename} has no deferred module ${name}; rebuild it with build.mjs`);
  const [encoding, data] = text.split(" ");
  if (encoding !== "br" || data === undefined) throw new Error(`the bundle ${__filename} holds deferred module ${name} in an encoding this build does not read; rebuild it with build.mjs`);
  const kept = store?.readSource(name);
  if (kept !== undefined) return kept;
  const zlib = require("node:zlib") as typeof import("node:zlib");
  const source = zlib.brotliDecompressSync(Buffer.from(data, "base64")).toString("utf8");
  store?.decompressed(name, source);
  return source;
}

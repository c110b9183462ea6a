// Heavy dependencies (yaml, pino, lru-cache, the AWS SDK) are not part of the code V8 parses when
// credmux starts: parsing 200 KB of never-run code costs about 6 ms, a third of a bare node start.
// build.mjs bundles each one separately and appends it to dist/credmux.cjs as a block of line
// comments, which V8 skims for almost nothing; loadDeferred() cuts a module out and compiles it on
// first use. Outside the bundle (tests, type checks) the ordinary require() is used.
import fs from "node:fs";
import Module from "node:module";

/** The dependencies build.mjs knows how to defer; keep in step with DEFERRED in build.mjs. */
export type DeferredName = "yaml" | "pino" | "lru-cache" | "aws-sdk";

/** The "aws-sdk" deferred module: the three clients credmux uses. */
export interface AwsSdk {
  ECR: typeof import("@aws-sdk/client-ecr");
  ECRPublic: typeof import("@aws-sdk/client-ecr-public");
  STS: typeof import("@aws-sdk/client-sts");
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

function compileDeferred(name: DeferredName): unknown {
  const source = readDeferredSource(name);
  const mod = new Module(`credmux-deferred:${name}`) as Module & { _compile(code: string, filename: string): void };
  mod.filename = __filename;
  mod.paths = [];
  mod._compile(source, `${__filename}#${name}`);
  return mod.exports;
}

function readDeferredSource(name: string): string {
  const self = fs.readFileSync(__filename, "utf8");
  const begin = `\n//@credmux-deferred ${name}\n`;
  const start = self.indexOf(begin);
  const end = self.indexOf(`\n//@credmux-deferred-end ${name}\n`, start);
  if (start < 0 || end < 0) throw new Error(`the bundle ${__filename} has no deferred module ${name}; rebuild it with build.mjs`);
  return self
    .slice(start + begin.length, end)
    .split("\n")
    .map((line) => line.slice(2))
    .join("\n");
}

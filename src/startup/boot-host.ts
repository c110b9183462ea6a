// What the start-up loader (boot.ts) hands the main code it compiles, as the last parameter of the
// module wrapper: the code cache store for the deferred modules, and import(). Code V8 compiles
// through node:vm cannot call import() itself (Node supports it there only behind flags, or with a
// warning, and on Node 20 not at all with a code cache); boot.ts, compiled by Node, can.
import type { CodeCacheStore } from "./code-cache.js";

export interface BootHost {
  codeCache: CodeCacheStore | undefined;
  /** A hash of the build's code (build/build-id.ts): names what only this build may trust (code caches, config notes). */
  buildId: string;
  /** import() as a module Node compiled makes it: for file: URLs and built-ins. */
  importModule(specifier: string): Promise<unknown>;
}

/** The module wrapper's parameter; undefined outside the bundle and the single executable (tests run the sources). */
declare const __credmuxHost: BootHost | undefined;

export function bootHost(): BootHost | undefined {
  return typeof __credmuxHost === "undefined" ? undefined : __credmuxHost;
}

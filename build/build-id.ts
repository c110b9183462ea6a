// A build's id: it names the code caches (src/startup/code-cache.ts) and config notes, so that two builds
// never share one.
import { createHash } from "node:crypto";

/**
 * A hash of all the code the loader may compile: the main code and every deferred module, by name.
 * V8 compares only a source's length with its cache's, so a deferred module changed to the same
 * length under an unchanged main code would otherwise run its old code.
 */
export function buildId(main: string, deferred: Iterable<readonly [name: string, text: string]>): string {
  const hash = createHash("sha256").update(main).update("\0");
  for (const [name, text] of deferred) hash.update(name).update("\0").update(text).update("\0");
  return hash.digest("hex").slice(0, 16);
}

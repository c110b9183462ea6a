// What the build (build/deferred-sections.ts) and the start-up code (deferred.ts) agree to call
// deferred code by: the core's own heavy libraries, and the specifiers through which a deferred
// chunk reaches the running core and the other chunks.

/** The core's heavy libraries: each one a deferred section named for its package, loaded with loadDeferred(name). */
export const DEFERRED_LIBRARIES = ["yaml", "pino", "lru-cache"] as const;
export type DeferredLibrary = (typeof DEFERRED_LIBRARIES)[number];

/**
 * A chunk's require() of "credmux-core:src/errors.ts" is the running core's module src/errors.ts:
 * one ProviderError class, one http client, whichever chunk uses them.
 */
export const CORE_MODULE_PREFIX = "credmux-core:";

/** A chunk's require() of "credmux-deferred:NAME" is the deferred chunk NAME, compiled on first use. */
export const DEFERRED_CHUNK_PREFIX = "credmux-deferred:";

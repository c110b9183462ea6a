// The in-memory layer: lru-cache bounded by entry count, each entry living until it stops being
// fresh. It serves the long-lived uses (`check` over many images, tests, a library caller) and
// fronts the disk within one process. A kubelet exec asks for one image and would never hit it, so
// the plugin does not create one and never loads lru-cache.
import { loadDeferred } from "../startup/deferred.js";
import type { CacheEntry } from "./disk.js";

type LRU = import("lru-cache").LRUCache<string, CacheEntry>;

export class MemoryCache {
  readonly #lru: LRU;
  readonly #now: () => number;

  constructor(maxEntries: number, now: () => number) {
    const { LRUCache } = loadDeferred<typeof import("lru-cache")>("lru-cache");
    this.#now = now;
    this.#lru = new LRUCache<string, CacheEntry>({ max: maxEntries });
  }

  /** The entry if it is still fresh. */
  get(key: string): CacheEntry | undefined {
    const entry = this.#lru.get(key);
    if (entry && entry.freshUntil > this.#now()) return entry;
    if (entry) this.#lru.delete(key);
    return undefined;
  }

  set(key: string, entry: CacheEntry): void {
    const ttl = entry.freshUntil - this.#now();
    if (ttl > 0) this.#lru.set(key, entry, { ttl });
  }
}

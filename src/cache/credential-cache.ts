// The credential cache in front of every cacheable provider: memory, then disk, then the provider
// itself, with one upstream fetch per key across concurrent execs, and a still-valid cached
// credential served when the upstream fails.
import type { Deadline } from "../deadline.js";
import { describeError } from "../errors.js";
import type { Logger } from "../log.js";
import type { ProviderResult } from "../provider.js";
import { DiskCache, type CacheEntry } from "./disk.js";
import type { CacheKey } from "./key.js";
import { MemoryCache } from "./memory.js";

export interface CacheSettings {
  /** "" turns the disk cache off. */
  dir: string;
  maxEntries: number;
  /** Whether to keep entries in memory too (long-lived callers). */
  memory: boolean;
  /** The whole exec's deadline; waiting on another exec's fetch gets half of it. */
  timeoutMs: number;
}

export type CacheSource = "memory" | "disk" | "upstream" | "stale";

export interface CachedAnswer {
  result: ProviderResult;
  source: CacheSource;
}

const POLL_MS = 10;

export class CredentialCache {
  readonly #disk: DiskCache | undefined;
  readonly #memory: MemoryCache | undefined;
  readonly #settings: CacheSettings;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(settings: CacheSettings, log: Logger, now: () => number) {
    this.#settings = settings;
    this.#log = log;
    this.#now = now;
    this.#disk = settings.dir ? new DiskCache(settings.dir, log, now) : undefined;
    this.#memory = settings.memory ? new MemoryCache(settings.maxEntries, now) : undefined;
  }

  get disk(): DiskCache | undefined {
    return this.#disk;
  }

  /**
   * The answer for `keys` (looked up in order; the first is where an upstream fetch is locked and,
   * unless the result narrows itself to one image, stored). `freshFor` says how long a fetched
   * result may be served; `imageKey` is where an Image-scoped result is stored.
   */
  async fetch(
    keys: { registry: CacheKey; image: CacheKey },
    upstream: () => Promise<ProviderResult>,
    freshFor: (result: ProviderResult) => number,
    deadline: Deadline,
  ): Promise<CachedAnswer> {
    const lookup = [keys.image, keys.registry];
    let stale: CacheEntry | undefined;
    for (const key of lookup) {
      const fromMemory = this.#memory?.get(key.text);
      if (fromMemory) return { result: this.#toResult(fromMemory), source: "memory" };
    }
    for (const key of lookup) {
      const entry = this.#disk?.read(key);
      if (!entry) continue;
      if (entry.freshUntil > this.#now()) return this.#hit(key, entry);
      if (entry.expiresAt !== undefined && entry.expiresAt > this.#now()) stale ??= entry;
    }

    const disk = this.#disk;
    const waitUntil = this.#now() + this.#settings.timeoutMs / 2;
    let attempt = disk?.tryLock(keys.registry, this.#settings.timeoutMs) ?? "unavailable";
    // Another exec is fetching this key: wait for its entry rather than call the upstream too.
    if (attempt === "held") deadline.start();
    while (disk && attempt === "held" && this.#now() < waitUntil && !deadline.passed) {
      await sleep(POLL_MS + Math.random() * POLL_MS);
      for (const key of lookup) {
        const entry = disk.read(key);
        if (entry && entry.freshUntil > this.#now()) return this.#hit(key, entry);
      }
      attempt = disk.tryLock(keys.registry, this.#settings.timeoutMs);
    }
    if (attempt === "held") this.#log.info("gave up waiting for another exec's fetch; fetching too", { provider: keys.registry.provider });
    const lock = typeof attempt === "object" ? attempt : undefined;
    try {
      // The holder before us may have stored the entry between our read and our lock.
      if (lock) {
        for (const key of lookup) {
          const entry = disk!.read(key);
          if (entry && entry.freshUntil > this.#now()) return this.#hit(key, entry);
        }
      }
      let result: ProviderResult;
      try {
        result = await upstream();
      } catch (error) {
        if (!stale) throw error;
        const remaining = stale.expiresAt! - this.#now();
        this.#log.warn("the provider failed; answering with its cached credential, which is still valid", {
          provider: stale.provider, scope: stale.scope, expiresAt: new Date(stale.expiresAt!).toISOString(), error: describeError(error),
        });
        return { result: { ...this.#toResult(stale), cacheDurationMs: remaining }, source: "stale" };
      }
      const lifetime = freshFor(result);
      if (lifetime > 0 && Object.keys(result.auth).length > 0) {
        const key = result.cacheKeyType === "Image" ? keys.image : keys.registry;
        const entry: CacheEntry = {
          version: 1,
          key: key.text,
          provider: key.provider,
          scope: key.scope,
          storedAt: this.#now(),
          freshUntil: this.#now() + lifetime,
          ...(result.expiresAt ? { expiresAt: result.expiresAt.getTime() } : {}),
          ...(result.cacheKeyType ? { cacheKeyType: result.cacheKeyType } : {}),
          auth: result.auth,
        };
        this.#memory?.set(key.text, entry);
        disk?.write(key, entry);
      }
      return { result, source: "upstream" };
    } finally {
      lock?.release();
    }
  }

  #hit(key: CacheKey, entry: CacheEntry): CachedAnswer {
    this.#memory?.set(key.text, entry);
    return { result: this.#toResult(entry), source: "disk" };
  }

  /** A cached entry as a provider result: served for what is left of its freshness. */
  #toResult(entry: CacheEntry): ProviderResult {
    return {
      auth: entry.auth,
      cacheDurationMs: entry.freshUntil - this.#now(),
      ...(entry.expiresAt !== undefined ? { expiresAt: new Date(entry.expiresAt) } : {}),
      ...(entry.cacheKeyType ? { cacheKeyType: entry.cacheKeyType } : {}),
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

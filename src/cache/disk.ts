// The on-disk credential cache shared by every exec (DESIGN.md, "Cache"): one file per key, mode
// 0600 in a 0700 directory owned by the running user, written beside and renamed into place, read
// back only after checking that it is a regular file of ours that nobody else can read, that it
// parses, and that it is the entry for the key asked. Anything else is ignored, logged and removed.
// Trouble with the directory itself never fails a pull: the run goes on uncached, with one warning.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../log.js";
import type { AuthEntry, CacheKeyType } from "../protocol.js";
import { untrustedFileReason } from "../startup/private-file.js";
import type { CacheKey } from "./key.js";

const ENTRY_VERSION = 1;
const MAX_ENTRY_BYTES = 256 * 1024;
/** A temporary file this old was left by an exec that died mid-write. */
const ORPHAN_TEMP_MS = 60_000;

export interface CacheEntry {
  version: typeof ENTRY_VERSION;
  key: string;
  provider: string;
  scope: string;
  storedAt: number;
  /** Served until then: the real expiry less the margin, or the default lifetime. */
  freshUntil: number;
  /** The credential's real expiry, when known: the limit for serving it when the upstream fails. */
  expiresAt?: number;
  cacheKeyType?: CacheKeyType;
  auth: Record<string, AuthEntry>;
}

const ENTRY_FIELDS = new Set(["version", "key", "provider", "scope", "storedAt", "freshUntil", "expiresAt", "cacheKeyType", "auth"]);
const CACHE_KEY_TYPES: ReadonlySet<unknown> = new Set(["Image", "Registry", "Global"]);

/**
 * The entry `document` is, if it has exactly an entry's shape; undefined otherwise. Checked by hand,
 * not with a zod schema: building one cost every cache hit half a millisecond, a tenth of what
 * credmux adds to a bare Node start.
 */
export function asCacheEntry(document: unknown): CacheEntry | undefined {
  if (!isPlainObject(document) || !Object.keys(document).every((field) => ENTRY_FIELDS.has(field))) return undefined;
  const entry = document as Partial<Record<keyof CacheEntry, unknown>>;
  const shaped = entry.version === ENTRY_VERSION &&
    typeof entry.key === "string" && typeof entry.provider === "string" && typeof entry.scope === "string" &&
    isNumber(entry.storedAt) && isNumber(entry.freshUntil) &&
    (entry.expiresAt === undefined || isNumber(entry.expiresAt)) &&
    (entry.cacheKeyType === undefined || CACHE_KEY_TYPES.has(entry.cacheKeyType)) &&
    isPlainObject(entry.auth) && Object.values(entry.auth).every(isAuthEntry);
  return shaped ? document as unknown as CacheEntry : undefined;
}

function isAuthEntry(value: unknown): value is AuthEntry {
  if (!isPlainObject(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 2 && typeof value.username === "string" && typeof value.password === "string";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A finite number, as JSON.parse makes them (zod's number() refused NaN and the infinities alike). */
function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

export interface LockHandle {
  release(): void;
}

interface LockInfo {
  pid: number;
  nonce: string;
  createdAt: number;
}

export class DiskCache {
  readonly dir: string;
  readonly #log: Logger;
  readonly #now: () => number;
  #usable: boolean | undefined;
  #warned = false;
  #pruned = false;

  constructor(dir: string, log: Logger, now: () => number) {
    this.dir = dir;
    this.#log = log;
    this.#now = now;
  }

  /** Logs cache trouble once per run: the answer goes on uncached, and one line says why. */
  warnOnce(message: string, fields: Record<string, unknown>): void {
    if (this.#warned) {
      this.#log.debug(message, { dir: this.dir, ...fields });
      return;
    }
    this.#warned = true;
    this.#log.warn(`${message}; answering without the on-disk cache`, { dir: this.dir, ...fields });
  }

  /** Whether the directory exists (or could be made) as a 0700 directory of ours, not a symlink. */
  usable(): boolean {
    if (this.#usable !== undefined) return this.#usable;
    this.#usable = this.#checkDirectory();
    return this.#usable;
  }

  #checkDirectory(): boolean {
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const stat = fs.lstatSync(this.dir);
      if (stat.isSymbolicLink()) return this.#refuse("the cache directory is a symlink, which credmux never follows");
      if (!stat.isDirectory()) return this.#refuse("the cache path is not a directory");
      if (stat.uid !== process.getuid!()) return this.#refuse(`the cache directory belongs to uid ${stat.uid}, not to this user (uid ${process.getuid!()})`);
      if ((stat.mode & 0o077) !== 0) {
        // Ours but readable by others: close it before a secret goes in.
        fs.chmodSync(this.dir, 0o700);
        this.#log.warn("the cache directory was open to other users; changed its mode to 0700", { dir: this.dir, mode: (stat.mode & 0o777).toString(8) });
      }
      return true;
    } catch (error) {
      return this.#refuse(`cannot use the cache directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }

  #refuse(reason: string): boolean {
    this.warnOnce(reason, {});
    return false;
  }

  entryPath(key: CacheKey): string {
    return path.join(this.dir, `${key.hash}.json`);
  }

  /** The entry for key if a trustworthy one is on disk; a bad file is removed and logged. */
  read(key: CacheKey): CacheEntry | undefined {
    if (!this.usable()) return undefined;
    const file = this.entryPath(key);
    const entry = this.#readFile(file);
    if (entry === undefined) return undefined;
    if (entry.key !== key.text) return this.#discard(file, "it holds the entry of another key");
    return entry;
  }

  #readFile(file: string): CacheEntry | undefined {
    let fd: number;
    try {
      // O_NOFOLLOW: a symlink planted in place of an entry is refused, never followed.
      fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return undefined;
      if (code === "ELOOP") return this.#discard(file, "it is a symlink");
      this.warnOnce(`cannot read a cache entry (${code ?? (error as Error).message})`, { file });
      return undefined;
    }
    let text: string;
    try {
      const stat = fs.fstatSync(fd);
      const untrusted = untrustedFileReason(stat);
      if (untrusted) return this.#discard(file, untrusted);
      if (stat.size > MAX_ENTRY_BYTES) return this.#discard(file, `it is ${stat.size} bytes`);
      text = fs.readFileSync(fd, "utf8");
    } finally {
      fs.closeSync(fd);
    }
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch {
      return this.#discard(file, text.length === 0 ? "it is empty" : "it is not valid JSON (truncated or corrupt)");
    }
    return asCacheEntry(document) ?? this.#discard(file, "it does not have the shape of a cache entry");
  }

  #discard(file: string, why: string): undefined {
    this.#log.warn(`ignoring and removing a cache file: ${why}`, { file });
    try {
      fs.unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.warnOnce(`cannot remove a bad cache file (${(error as NodeJS.ErrnoException).code})`, { file });
    }
    return undefined;
  }

  /** Stores entry for key: written to a temporary file of mode 0600 beside it, then renamed over it. */
  write(key: CacheKey, entry: CacheEntry): void {
    if (!this.usable()) return;
    const file = this.entryPath(key);
    const temp = path.join(this.dir, `.${key.hash}.${uniqueSuffix()}.tmp`);
    try {
      const fd = fs.openSync(temp, "wx", 0o600);
      try {
        fs.writeSync(fd, JSON.stringify(entry));
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temp, file);
    } catch (error) {
      try { fs.unlinkSync(temp); } catch { /* it may never have been created */ }
      this.warnOnce(`cannot write the cache (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { file });
      return;
    }
    this.#pruneOnce();
  }

  /**
   * Takes the fetch lock for key: the handle, "held" if another live exec holds it, or
   * "unavailable" if no lock can be made here (read-only or full directory): then there is nothing
   * to wait for either.
   */
  tryLock(key: CacheKey, staleAfterMs: number): LockHandle | "held" | "unavailable" {
    if (!this.usable()) return "unavailable";
    const file = path.join(this.dir, `${key.hash}.lock`);
    const info: LockInfo = { pid: process.pid, nonce: uniqueSuffix(), createdAt: this.#now() };
    for (let attempt = 0; attempt < 2; attempt++) {
      let fd: number | undefined;
      try {
        fd = fs.openSync(file, "wx", 0o600);
        fs.writeSync(fd, JSON.stringify(info));
        fs.closeSync(fd);
        return { release: () => this.#releaseLock(file, info.nonce) };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "EEXIST") {
          // Created but not written (a full disk): an empty lock would hold others back for a while.
          if (fd !== undefined) {
            try { fs.closeSync(fd); } catch { /* already closed */ }
            try { fs.unlinkSync(file); } catch { /* gone */ }
          }
          this.warnOnce(`cannot create a lock file (${code ?? (error as Error).message})`, { file });
          return "unavailable";
        }
        if (attempt > 0 || !this.#breakIfStale(file, staleAfterMs)) return "held";
      }
    }
    return "held";
  }

  #releaseLock(file: string, nonce: string): void {
    // Only our own lock: if it was judged stale and taken over, it is someone else's now.
    if (this.#readLock(file)?.nonce === nonce) {
      try { fs.unlinkSync(file); } catch { /* already gone */ }
    }
  }

  #readLock(file: string): LockInfo | undefined {
    try {
      const info = JSON.parse(fs.readFileSync(file, "utf8")) as LockInfo;
      return typeof info?.pid === "number" && typeof info.nonce === "string" ? info : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Removes the lock if its holder died (or has held it past the deadline every exec works under).
   * The lock is renamed aside first and checked to be the one judged stale, so that two waiters
   * breaking it at once cannot remove a fresh lock a third has just taken.
   */
  #breakIfStale(file: string, staleAfterMs: number): boolean {
    const info = this.#readLock(file);
    let stale: boolean;
    if (info === undefined) {
      // Half-written by a holder killed between create and write, or garbage: judge by its age.
      try {
        stale = this.#now() - fs.statSync(file).mtimeMs > 1000;
      } catch {
        return true;
      }
    } else {
      stale = !processAlive(info.pid) || this.#now() - info.createdAt > staleAfterMs;
    }
    if (!stale) return false;
    const aside = `${file}.${uniqueSuffix()}.stale`;
    try {
      fs.renameSync(file, aside);
    } catch {
      return true; // someone else removed it first: try to take it
    }
    const moved = this.#readLock(aside);
    if (info !== undefined && moved?.nonce !== info.nonce) {
      // We moved a lock taken after ours was judged: put it back unless yet another was taken.
      try { fs.linkSync(aside, file); } catch { /* a new holder exists; at worst two fetches */ }
    } else {
      this.#log.info("took over a cache lock whose holder is gone", { file, pid: info?.pid });
    }
    try { fs.unlinkSync(aside); } catch { /* gone */ }
    return true;
  }

  /** Removes entries past their real expiry (or freshness, when the expiry is unknown) and orphaned temp files. */
  #pruneOnce(): void {
    if (this.#pruned) return;
    this.#pruned = true;
    const now = this.#now();
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const name of names) {
      const file = path.join(this.dir, name);
      try {
        if (name.endsWith(".tmp") || name.endsWith(".stale")) {
          if (now - fs.lstatSync(file).mtimeMs > ORPHAN_TEMP_MS) fs.unlinkSync(file);
        } else if (name.endsWith(".json")) {
          const entry = this.#readFile(file);
          if (entry && (entry.expiresAt ?? entry.freshUntil) <= now) fs.unlinkSync(file);
        }
      } catch { /* another exec pruned it first */ }
    }
  }

  /** Every trustworthy entry, for `credmux cache list`. */
  list(): CacheEntry[] {
    if (!this.usable()) return [];
    return fs.readdirSync(this.dir)
      .filter((name) => name.endsWith(".json"))
      .map((name) => this.#readFile(path.join(this.dir, name)))
      .filter((entry): entry is CacheEntry => entry !== undefined);
  }

  /** Removes the entries (of one provider, or all); returns how many. */
  clear(provider?: string): number {
    if (!this.usable()) return 0;
    let removed = 0;
    for (const name of fs.readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      const file = path.join(this.dir, name);
      const entry = provider === undefined ? undefined : this.#readFile(file);
      if (provider !== undefined && entry?.provider !== provider) continue;
      try {
        fs.unlinkSync(file);
        removed++;
      } catch { /* gone */ }
    }
    return removed;
  }
}

/** A name no other process or call will pick, for temporary files and lock ownership (not secrecy). */
function uniqueSuffix(): string {
  return `${process.pid}.${Date.now().toString(36)}.${Math.random().toString(36).slice(2, 10)}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

// A note in cache.dir that this build validated this exact config text at this path, with the
// Config the validation made of it, so that the next kubelet exec reading the same file rebuilds
// that Config instead of validating again: building zod's schemas and parsing is about 2 ms of every
// exec, a tenth of a bare Node start, and the resolved Config needs nothing else (no provider's
// metadata, no provider module) until a request asks a provider. Validation depends on nothing but
// the text, the path and the build (every built-in schema is a pure function of its input); an
// operator's provider module can change under the same config, so its entries are noted by name
// only and config.ts resolves them again on every exec.
// The note holds the whole text, compared byte for byte: nothing to hash, and a corrupted note can
// only fail to match. It lives under the rule of the code caches (private-file.ts). Only the
// kubelet plugin's runs use notes: `credmux validate` and the other commands always validate.
import fs from "node:fs";
import path from "node:path";
import { ensurePrivateDirectory, isPrivateDirectory, readPrivateFile, writePrivateFile } from "./private-file.js";
import { sha256Hex } from "../sha256.js";
import type { Config, ProviderConfig } from "../config.js";

/** 2: the resolved Config beside the text. A note of version 1 holds only the text, and is not read. */
const NOTE_VERSION = 2;
const PREFIX = "config-";
const SUFFIX = ".validated";
/** The config's own limit (config.ts), JSON-escaped, and the Config made of it. */
const MAX_NOTE_BYTES = (1 << 20) * 4;
/** How long another build's note is kept. */
const OTHER_BUILD_NOTE_MS = 7 * 24 * 3600e3;

/** What a note holds of a Config: all but its path (the note's own) and its providers' definitions. */
export interface NotedConfig extends Pick<Config, "defaults" | "onFailure" | "cache" | "log" | "mirrors"> {
  providers: NotedProvider[];
}

/** A built-in provider as the run uses it, or an operator's module provider by name: resolved again each run. */
export type NotedProvider = Omit<ProviderConfig, "definition"> | { name: string; type: "module" };

export class ConfigSnapshots {
  readonly #dir: string;
  readonly #buildId: string;

  /** Notes in dir (a config's cache.dir) of the build buildId (boot.ts's hash of the code). */
  constructor(dir: string, buildId: string) {
    this.#dir = dir;
    this.#buildId = buildId;
  }

  /** The note's file for the config at `absolute`: its path is hashed, as cache keys are (no path in a name). */
  file(absolute: string): string {
    return path.join(this.#dir, `${PREFIX}${this.#buildId}-${sha256Hex(absolute).slice(0, 16)}${SUFFIX}`);
  }

  /** The Config this build noted for exactly `text` as the config at `absolute`; undefined when it noted none. */
  read(absolute: string, text: string): NotedConfig | undefined {
    if (!isPrivateDirectory(this.#dir)) return undefined;
    const bytes = readPrivateFile(this.file(absolute), MAX_NOTE_BYTES);
    if (!bytes) return undefined;
    try {
      const note = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8")) as { version?: unknown; path?: unknown; text?: unknown; config?: NotedConfig } | null;
      if (note?.version !== NOTE_VERSION || note.path !== absolute || note.text !== text) return undefined;
      return Array.isArray(note.config?.providers) ? note.config : undefined;
    } catch {
      return undefined; // corrupt or truncated: validated again, and the note rewritten
    }
  }

  /**
   * Notes that this build validated `text` as the config at `absolute`, making `config` of it, and
   * removes old notes of other builds; whether it was noted. A Config that JSON would not carry
   * exactly (a value JSON has no form for) is not noted: it is validated on every run instead.
   */
  record(absolute: string, text: string, config: NotedConfig): boolean {
    const note = JSON.stringify({ version: NOTE_VERSION, path: absolute, text, config });
    // node:util on the noting run only, once per config change: the exec that reads the note pays nothing.
    const { isDeepStrictEqual } = require("node:util") as typeof import("node:util");
    if (!isDeepStrictEqual((JSON.parse(note) as { config: unknown }).config, config)) return false;
    if (!ensurePrivateDirectory(this.#dir)) return false;
    if (!writePrivateFile(this.file(absolute), note)) return false;
    // Not every other build's note: two builds sharing the directory (the bundle and the single
    // executable, or an upgrade under way) would each remove the other's, and both validate on
    // every exec. Notes no build has written for a week are from builds that are gone.
    const current = `${PREFIX}${this.#buildId}-`;
    const oldest = Date.now() - OTHER_BUILD_NOTE_MS;
    try {
      for (const name of fs.readdirSync(this.#dir)) {
        if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX) || name.startsWith(current)) continue;
        const file = path.join(this.#dir, name);
        if (fs.lstatSync(file).mtimeMs < oldest) fs.unlinkSync(file);
      }
    } catch { /* another exec removed it first */ }
    return true;
  }
}

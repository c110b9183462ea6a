// A note in cache.dir that this build validated this exact config text at this path, so that the
// next kubelet exec reading the same file does not validate it again: building zod's schemas and
// parsing is about 2 ms of every exec, a tenth of a bare Node start. Validation depends on nothing
// but the text, the path and the build (every built-in schema is a pure function of its input);
// an operator's provider module can change under the same config, so config.ts checks its options
// on every exec regardless.
// The note holds the whole text, compared byte for byte: nothing to hash, and a corrupted note can
// only fail to match. It lives under the rule of the code caches (private-file.ts). Only the
// kubelet plugin's runs use notes: `credmux validate` and the other commands always validate.
import fs from "node:fs";
import path from "node:path";
import { ensurePrivateDirectory, isPrivateDirectory, readPrivateFile, writePrivateFile } from "./private-file.js";
import { sha256Hex } from "./sha256.js";

const NOTE_VERSION = 1;
const PREFIX = "config-";
const SUFFIX = ".validated";
/** The config's own limit (config.ts), and room for the note around it. */
const MAX_NOTE_BYTES = (1 << 20) * 2;
/** How long another build's note is kept. */
const OTHER_BUILD_NOTE_MS = 7 * 24 * 3600e3;

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

  /** Whether this build noted that it validated exactly `text` as the config at `absolute`. */
  validated(absolute: string, text: string): boolean {
    if (!isPrivateDirectory(this.#dir)) return false;
    const bytes = readPrivateFile(this.file(absolute), MAX_NOTE_BYTES);
    if (!bytes) return false;
    try {
      const note = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8")) as { version?: unknown; path?: unknown; text?: unknown } | null;
      return note?.version === NOTE_VERSION && note.path === absolute && note.text === text;
    } catch {
      return false; // corrupt or truncated: validated again, and the note rewritten
    }
  }

  /** Notes that this build validated `text` as the config at `absolute`, and removes old notes of other builds; whether it was noted. */
  record(absolute: string, text: string): boolean {
    if (!ensurePrivateDirectory(this.#dir)) return false;
    if (!writePrivateFile(this.file(absolute), JSON.stringify({ version: NOTE_VERSION, path: absolute, text }))) return false;
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

// Logging: pino, synchronous, to fd 2 and optionally a file, never stdout (the kubelet reads the
// response there). pino is deferred (src/startup/deferred.ts): it is compiled only when a line is actually
// written at the enabled level, so the quiet path of a kubelet exec never pays for it.
// Every line passes through the run's SecretSet and pino's key redaction before it is written.
import fs from "node:fs";
import path from "node:path";
import { loadDeferred } from "./startup/deferred.js";
import { humanLogLine } from "./human-log-line.js";
import { describeError } from "./errors.js";
import type { SecretSet } from "./secrets.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const RANK: Record<LogLevel, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

/** Field names whose values are never logged, wherever they appear. */
const REDACT_PATHS = [
  "password", "*.password", "auth", "*.auth", "token", "*.token", "secret", "*.secret",
  "serviceAccountToken", "*.serviceAccountToken", "authorization", "*.authorization",
];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Whether a line at this level would be written (to skip building expensive fields). */
  enabled(level: LogLevel): boolean;
}

export interface LogSink {
  level: LogLevel;
  file: string;
  /** The fd that receives log lines; 2 except in tests. */
  fd: number;
  /** Lines on the fd as text for a person (humanLogLine), not JSON: every command but the kubelet plugin. */
  human?: boolean;
}

type PinoModule = typeof import("pino");
type PinoLogger = import("pino").Logger;

/** A logger whose level and file may still change (the config is read after the logger exists). */
export class RunLogger implements Logger {
  #pino: PinoLogger | undefined;
  /** The log file's stream, closed by close(); fd 2 is never ours to close. */
  #fileStream: { destroy(): void } | undefined;
  /** The failures failure() has logged. */
  readonly #loggedFailures = new WeakSet<object>();
  /** In human mode, the JSON logger of the log file. */
  #fileOnly: RunLogger | undefined;
  #sink: LogSink;
  readonly #secrets: SecretSet;
  readonly #bindings: LogFields;

  constructor(sink: LogSink, secrets: SecretSet, bindings: LogFields = {}) {
    this.#sink = { ...sink };
    this.#secrets = secrets;
    this.#bindings = bindings;
  }

  /** Changes the level or the file; takes effect from the next line. */
  configure(sink: Partial<LogSink>): void {
    const next = { ...this.#sink, ...sink };
    if (next.file !== this.#sink.file || next.fd !== this.#sink.fd || next.human !== this.#sink.human) this.close();
    this.#sink = next;
  }

  /** Closes the log file, if one is open (lines are written synchronously: nothing is pending). */
  close(): void {
    this.#fileOnly?.close();
    this.#fileOnly = undefined;
    this.#fileStream?.destroy();
    this.#fileStream = undefined;
    this.#pino = undefined;
  }

  get level(): LogLevel {
    return this.#sink.level;
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= RANK[this.#sink.level] && level !== "silent";
  }

  debug(message: string, fields?: LogFields): void { this.#write("debug", message, fields); }
  info(message: string, fields?: LogFields): void { this.#write("info", message, fields); }
  warn(message: string, fields?: LogFields): void { this.#write("warn", message, fields); }
  error(message: string, fields?: LogFields): void { this.#write("error", message, fields); }

  #write(level: Exclude<LogLevel, "silent">, message: string, fields: LogFields | undefined): void {
    if (!this.enabled(level)) return;
    const safeFields = fields ? this.#scrub({ ...this.#bindings, ...fields }) : this.#scrub({ ...this.#bindings });
    if (this.#sink.human && this.#sink.fd >= 0) {
      fs.writeSync(this.#sink.fd, humanLogLine(level, this.#secrets.mask(message), safeFields));
      // The file, if any, still gets JSON: a logger of the same sink that writes only there.
      if (this.#sink.file) (this.#fileOnly ??= new RunLogger({ ...this.#sink, fd: -1, human: false }, this.#secrets, this.#bindings)).#write(level, message, fields);
      return;
    }
    this.#logger()[level](safeFields as object, this.#secrets.mask(message));
  }

  /**
   * Logs the failure that ends a kubelet-plugin run, once however many layers report it: as a JSON
   * error line on stderr (and in the log file), which log collectors read; the CLI then writes the
   * one human line the kubelet shows in its own error.
   */
  failure(error: unknown, message: string, fields?: LogFields): void {
    if (typeof error === "object" && error !== null) {
      if (this.#loggedFailures.has(error)) return;
      this.#loggedFailures.add(error);
    }
    this.error(message, fields);
  }

  #scrub(fields: LogFields): LogFields {
    return this.#scrubValue(fields, 0) as LogFields;
  }

  /** Masks every string leaf: masking JSON text would miss a secret whose quotes or backslashes JSON escapes. */
  #scrubValue(value: unknown, depth: number): unknown {
    if (value instanceof Error) return describeError(value, (text) => this.#secrets.mask(text));
    if (typeof value === "string") return this.#secrets.mask(value);
    if (value === null || typeof value !== "object") return value;
    if (depth > 8) return "[nested too deep to log]";
    if (Array.isArray(value)) return value.map((item) => this.#scrubValue(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = this.#scrubValue(inner, depth + 1);
    return out;
  }

  #logger(): PinoLogger {
    if (this.#pino) return this.#pino;
    const pino = loadDeferred<PinoModule>("pino");
    const options = {
      base: undefined,
      level: "debug",
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label: string) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: "***" },
    };
    // Each multistream entry filters at its own level (default info): let every line through, the
    // level check is ours (enabled()).
    const streams: { level: "debug"; stream: NodeJS.WritableStream | import("pino").DestinationStream }[] = this.#sink.fd < 0
      ? []
      : [{ level: "debug", stream: pino.destination({ dest: this.#sink.fd, sync: true }) }];
    if (this.#sink.file) {
      try {
        const file = pino.destination({ dest: openLogFile(this.#sink.file), sync: true });
        this.#fileStream = file as unknown as { destroy(): void };
        streams.push({ level: "debug", stream: file });
      } catch (error) {
        // A log file that cannot be opened must not fail the pull: say so on stderr and go on.
        const warning = pino(options, pino.destination({ dest: 2, sync: true }));
        warning.warn({ file: this.#sink.file, error: describeError(error) }, "cannot open the log file; logging to stderr only");
      }
    }
    if (streams.length === 0) streams.push({ level: "debug", stream: pino.destination({ dest: 2, sync: true }) });
    this.#pino = streams.length === 1 ? pino(options, streams[0]!.stream) : pino(options, pino.multistream(streams as never));
    return this.#pino;
  }
}

/**
 * Opens the log file for appending (made 0600 if missing, with its directory), refusing a symlink
 * (O_NOFOLLOW) and anything but a regular file of credmux's user: credmux runs as root, and a log
 * path that another user could point elsewhere would have root append to a file of their choice.
 */
function openLogFile(file: string): number {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO without a reader fails at once instead of blocking the exec.
    fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOOP") throw new Error(`${file} is a symbolic link, which credmux does not follow (point log.file at the file itself)`);
    throw error;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`${file} is not a regular file (point log.file at one)`);
    if (stat.uid !== process.getuid!()) throw new Error(`${file} belongs to uid ${stat.uid}, not to credmux's user (chown it to uid ${process.getuid!()}, or remove it)`);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

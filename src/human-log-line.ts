// Log lines for a person at a terminal: the commands other than the kubelet plugin (check, explain,
// validate, ...) print human text on stdout, and their warnings read the same way on stderr,
// instead of JSON lines mixed into a human report. The plugin's stderr stays pino JSON for log
// collectors, and a log.file is JSON whatever the command.
import type { LogFields, LogLevel } from "./log.js";

/** `credmux: warning: MESSAGE (key: value, ...)`: one line, fields already masked by the caller. */
export function humanLogLine(level: Exclude<LogLevel, "silent">, message: string, fields: LogFields): string {
  const shown = Object.entries(fields).filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${typeof value === "string" ? value : JSON.stringify(value)}`);
  return `credmux: ${level === "warn" ? "warning" : level}: ${message}${shown.length > 0 ? ` (${shown.join(", ")})` : ""}\n`;
}

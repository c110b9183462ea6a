// A Logger that keeps its lines, for tests that assert what was logged.
import type { Logger, LogFields, LogLevel } from "../../src/log.js";

export interface LoggedLine {
  level: LogLevel;
  message: string;
  fields: LogFields | undefined;
}

export class CaptureLog implements Logger {
  readonly lines: LoggedLine[] = [];
  debug(message: string, fields?: LogFields): void { this.lines.push({ level: "debug", message, fields }); }
  info(message: string, fields?: LogFields): void { this.lines.push({ level: "info", message, fields }); }
  warn(message: string, fields?: LogFields): void { this.lines.push({ level: "warn", message, fields }); }
  error(message: string, fields?: LogFields): void { this.lines.push({ level: "error", message, fields }); }
  enabled(): boolean { return true; }
  at(level: LogLevel): LoggedLine[] { return this.lines.filter((line) => line.level === level); }
}

// One output flag for every command that prints a report, as kubectl has: `-o table|json|yaml`
// (`--output`). `table` is the human text; json and yaml are the same data for scripts.
import { CredmuxError } from "../errors.js";
import { loadDeferred } from "../startup/deferred.js";
import type { ParsedArgs } from "../args.js";

export type OutputFormat = "table" | "json" | "yaml";

/**
 * The format -o/--output asks for, `fallback` without one; `--json` (check's older flag) is -o json.
 * A format the command does not offer is a usage error naming the ones it does.
 */
export function outputFormat(args: ParsedArgs, command: string, offered: readonly OutputFormat[] = ["table", "json", "yaml"], fallback: OutputFormat = offered[0]!): OutputFormat {
  const flag = args.flags.get("output");
  if (flag === undefined) return args.flags.has("json") && offered.includes("json") ? "json" : fallback;
  if (flag === true || !(offered as readonly string[]).includes(flag)) {
    throw new CredmuxError("usage", `-o must be one of ${offered.join(", ")}, found ${flag === true ? "nothing" : `"${flag}"`}`, `see credmux ${command} --help`);
  }
  return flag as OutputFormat;
}

/** A report as JSON or YAML text, ending in a newline. */
export function formatData(value: unknown, format: "json" | "yaml"): string {
  if (format === "json") return `${JSON.stringify(value, null, 2)}\n`;
  return loadDeferred<typeof import("yaml")>("yaml").stringify(value);
}

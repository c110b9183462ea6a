// The command line split into a command, positionals and --flags. Its own file because two readers
// need the same answer: the CLI, and the start-up loader (boot.ts), which must find --config and
// tell the kubelet plugin from the other commands before the main code is even compiled.
import { CredmuxError } from "./errors.js";

/** The options that take a value, for every command (so that `--config FILE check` reads the same everywhere). */
export const VALUED_FLAGS: ReadonlySet<string> = new Set(["config", "log-level", "provider", "entry", "kubelet-config", "format", "merge", "profile", "root", "output"]);

/** Short options and the long ones they stand for. */
const SHORT_FLAGS: Readonly<Record<string, string>> = { "-h": "help", "-o": "output" };

export interface ParsedArgs {
  command: string | undefined;
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Splits argv into a command, positionals and --flags; flags that take a value are listed. */
export function parseArgs(argv: readonly string[], valued: ReadonlySet<string>): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positionals: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === "--") {
      positionals.push(...argv.slice(index + 1));
      break;
    }
    const short = Object.hasOwn(SHORT_FLAGS, arg) ? SHORT_FLAGS[arg]! : undefined;
    if (short !== undefined || arg.startsWith("--")) {
      const eq = short !== undefined ? -1 : arg.indexOf("=");
      const name = short ?? arg.slice(2, eq < 0 ? undefined : eq);
      if (eq >= 0) flags.set(name, arg.slice(eq + 1));
      else if (valued.has(name)) {
        const value = argv[index + 1];
        if (value === undefined) throw new CredmuxError("usage", `--${name} needs a value`, "see credmux --help");
        flags.set(name, value);
        index++;
      } else flags.set(name, true);
    } else positionals.push(arg);
  }
  const command = positionals.shift();
  return { command, positionals, flags };
}

// The commands credmux knows, by name. Each lives in its own file; "plugin" is the kubelet's.
import type { CliIo, ParsedArgs } from "../cli.js";
import type { RunLogger } from "../log.js";
import type { SecretSet } from "../secrets.js";
import { cacheCommand } from "./cache.js";
import { checkCommand, explainCommand } from "./check.js";
import { matchCommand } from "./match.js";
import { pluginCommand } from "./plugin.js";
import { validateCommand } from "./validate.js";

export interface CommandContext {
  io: CliIo;
  args: ParsedArgs;
  log: RunLogger;
  secrets: SecretSet;
  /** The log level came from --log-level or CREDMUX_LOG_LEVEL, so the config's must not override it. */
  levelFixed: boolean;
}

export interface Command {
  help: string;
  /** The options it takes besides --config, --log-level and --help. */
  flags: readonly string[];
  run(context: CommandContext): Promise<number>;
}

export const commands: Readonly<Record<string, Command>> = {
  plugin: pluginCommand,
  check: checkCommand,
  explain: explainCommand,
  match: matchCommand,
  validate: validateCommand,
  cache: cacheCommand,
};

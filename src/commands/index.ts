// The commands credmux knows, by name. Each lives in its own file; "plugin" is the kubelet's.
import type { CliIo, ParsedArgs } from "../cli.js";
import type { RunLogger } from "../log.js";
import type { SecretSet } from "../secrets.js";
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

/**
 * Loaded on demand: a kubelet exec runs only the plugin, and should not initialise the modules of
 * install, kubelet-config or check (the bundle compiles what it runs; see src/deferred.ts for why
 * start-up matters).
 */
export const commands: Readonly<Record<string, () => Promise<Command>>> = {
  plugin: async () => (await import("./plugin.js")).pluginCommand,
  check: async () => (await import("./check.js")).checkCommand,
  explain: async () => (await import("./check.js")).explainCommand,
  match: async () => (await import("./match.js")).matchCommand,
  validate: async () => (await import("./validate.js")).validateCommand,
  cache: async () => (await import("./cache.js")).cacheCommand,
  "kubelet-config": async () => (await import("./kubelet-config.js")).kubeletConfigCommand,
  install: async () => (await import("./install.js")).installCommand,
};

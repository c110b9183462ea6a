// The commands credmux knows, by name. Each lives in its own file; "plugin" is the kubelet's.
import type { ParsedArgs } from "../args.js";
import type { CliIo } from "../cli.js";
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
 * install, kubelet-config or check (the bundle compiles what it runs; see src/startup/deferred.ts for why
 * start-up matters).
 */
export const commands: Readonly<Record<string, () => Promise<Command>>> = {
  plugin: async () => named(await import("./plugin.js"), "pluginCommand"),
  check: async () => named(await import("./check.js"), "checkCommand"),
  explain: async () => named(await import("./check.js"), "explainCommand"),
  match: async () => named(await import("./match.js"), "matchCommand"),
  validate: async () => named(await import("./validate.js"), "validateCommand"),
  cache: async () => named(await import("./cache.js"), "cacheCommand"),
  "kubelet-config": async () => named(await import("./kubelet-config.js"), "kubeletConfigCommand"),
  install: async () => named(await import("./install.js"), "installCommand"),
};

/**
 * A named export of a dynamically imported module. In the bundle it is on the module; in the
 * transpiled test tree, Node's import() of a CommonJS file exposes it only under `default`.
 */
function named<M extends object, K extends keyof M>(module: M, name: K): M[K] {
  return module[name] ?? (module as { default?: M }).default![name];
}

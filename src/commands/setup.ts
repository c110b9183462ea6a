// What every config-reading command does first: find and load the config, and let its log
// settings take effect (unless --log-level or CREDMUX_LOG_LEVEL already chose the level).
import { bootHost } from "../startup/boot-host.js";
import { configPath, loadConfig, type Config } from "../config.js";
import { shadowedDefaultConfigs } from "../config-location.js";
import { CredentialCache } from "../cache/credential-cache.js";
import { Dispatcher } from "../dispatch.js";
import type { CommandContext } from "./index.js";

/**
 * Loads the config named by --config / CREDMUX_CONFIG / the default, and applies its log settings.
 * `snapshots`: skip validating a config this build validated before (the kubelet plugin's runs).
 */
export async function loadRunConfig(context: CommandContext, snapshots = false): Promise<Config> {
  const flag = context.args.flags.get("config");
  const host = snapshots ? bootHost() : undefined;
  const file = configPath(typeof flag === "string" ? flag : undefined, context.io.env);
  const config = await loadConfig(file, context.io.cwd, host ? {
    snapshotBuildId: host.buildId,
    // This run's code caches would hold the validation's code, which the next runs skip: they write them instead.
    onNoted: () => host.codeCache?.forgetMissed(),
  } : {});
  context.log.configure({
    file: config.log.file,
    ...(config.log.level && !context.levelFixed ? { level: config.log.level } : {}),
  });
  // Only a search can pass over a file: --config and CREDMUX_CONFIG name theirs.
  for (const shadowed of typeof flag === "string" || context.io.env.CREDMUX_CONFIG ? [] : shadowedDefaultConfigs(file)) {
    context.log.warn(`${shadowed} is not read: ${file} comes first in credmux's search; merge what it holds into ${file} and remove it`, { config: file, ignored: shadowed });
  }
  return config;
}

/** The run's credential cache; `memory` for commands that resolve more than one image. */
export function makeCache(config: Config, context: CommandContext, memory: boolean): CredentialCache | undefined {
  if (!config.cache.dir && !memory) return undefined;
  return new CredentialCache({ dir: config.cache.dir, maxEntries: config.cache.maxEntries, memory, timeoutMs: config.defaults.timeoutMs }, context.log, context.io.now);
}

/** A dispatcher over the run's real side effects. */
export function makeDispatcher(config: Config, context: CommandContext, cache: CredentialCache | undefined): Dispatcher {
  return new Dispatcher(config, {
    log: context.log,
    secrets: context.secrets,
    now: context.io.now,
    env: context.io.env,
    cwd: context.io.cwd,
    ...(cache ? { cache } : {}),
  });
}

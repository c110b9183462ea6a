// Where the config and the on-disk cache are, without validating anything: the full config loader
// (config.ts) and the start-up loader (boot.ts), which looks for its code cache in cache.dir before
// the config is validated, must agree on both, so both take them from here. Kept free of imports
// beyond node:path: boot.ts bundles this file into the few kilobytes Node compiles on every exec.
import path from "node:path";

export const DEFAULT_CONFIG_PATH = "/etc/credmux/config.yaml";
export const DEFAULT_CACHE_DIR = "/var/lib/credmux";

/** Where the config comes from: --config, else CREDMUX_CONFIG, else the default path. */
export function configPath(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return flag || env.CREDMUX_CONFIG || DEFAULT_CONFIG_PATH;
}

/**
 * The cache directory a config names: `cache.dir` resolved against the config file's directory,
 * the default when the field is absent, "" (no on-disk cache) when it is "".
 */
export function resolveCacheDir(dir: string | undefined, configDir: string): string {
  if (dir === undefined) return DEFAULT_CACHE_DIR;
  return dir && path.resolve(configDir, dir);
}

/** Whether a config file's text is JSON (a JSON object) rather than YAML. */
export function isJsonConfig(text: string): boolean {
  return /^\uFEFF?\s*\{/.test(text);
}

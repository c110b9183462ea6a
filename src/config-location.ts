// Where the config and the on-disk cache are, without validating anything: the full config loader
// (config.ts) and the start-up loader (boot.ts), which looks for its code cache in cache.dir before
// the config is validated, must agree on both, so both take them from here. Kept free of imports
// beyond node:path: boot.ts bundles this file into the few kilobytes Node compiles on every exec.
import fs from "node:fs";
import path from "node:path";

/**
 * Where a config is looked for when neither --config nor CREDMUX_CONFIG names one, in order. `install`
 * writes the first (JSON: a YAML config costs each exec about 10 ms to parse), so a plain `credmux
 * check` on a node reads what the kubelet's exec reads, never an older YAML left beside it.
 */
export const DEFAULT_CONFIG_PATHS = ["/etc/credmux/config.json", "/etc/credmux/config.yaml"] as const;
export const DEFAULT_CACHE_DIR = "/var/lib/credmux";

/**
 * Where the config comes from: --config, else CREDMUX_CONFIG, else the first of DEFAULT_CONFIG_PATHS
 * that exists (the first when none does, so that the error names where it is expected).
 */
export function configPath(flag: string | undefined, env: Readonly<Record<string, string | undefined>>, exists: (file: string) => boolean = fs.existsSync): string {
  return flag || env.CREDMUX_CONFIG || DEFAULT_CONFIG_PATHS.find(exists) || DEFAULT_CONFIG_PATHS[0];
}

/** The default config files that the search passed over for `chosen` (an older YAML beside install's JSON). */
export function shadowedDefaultConfigs(chosen: string, exists: (file: string) => boolean = fs.existsSync): string[] {
  const at = DEFAULT_CONFIG_PATHS.indexOf(chosen as (typeof DEFAULT_CONFIG_PATHS)[number]);
  return at < 0 ? [] : DEFAULT_CONFIG_PATHS.slice(at + 1).filter(exists);
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

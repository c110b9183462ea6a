// What a cached answer was fetched under: a digest of everything in a provider's config entry that
// shapes its answer, and of the identity of the files its options name. It is part of every cache
// key, so that an operator's change (another tokenUrl, client or username, a rotated secret file) is
// a miss at the next exec instead of the old credential served until it expires (issue 15).
// Cheap on a hit: no provider module is loaded and no schema built; the entry's digest is made once
// per loaded config, and each file named in the options costs one stat per request.
import fs from "node:fs";
import path from "node:path";
import type { ProviderConfig } from "../config.js";
import { namesReadFiles } from "../file-options.js";
import { sha256Hex } from "../sha256.js";

/** What of a provider's entry is fixed for one loaded config. */
interface Settings {
  digest: string;
  /** The files its options name, resolved against the config's directory. */
  files: string[];
}

const settingsByProvider = new WeakMap<ProviderConfig, Settings>();

/** The digest of the provider's settings and of the current identity of every file its options name. */
export function providerFingerprint(provider: ProviderConfig, configDir: string): string {
  let settings = settingsByProvider.get(provider);
  if (!settings) {
    settings = describeSettings(provider, configDir);
    settingsByProvider.set(provider, settings);
  }
  if (settings.files.length === 0) return settings.digest;
  return sha256Hex(JSON.stringify([settings.digest, ...settings.files.map((file) => [file, fileIdentity(file)])]));
}

function describeSettings(provider: ProviderConfig, configDir: string): Settings {
  const { type, module, matchImages, tokenAttributes, options } = provider;
  // Key order is not a change: a config noted as valid hands the options over as written, a
  // validated one as its schema returns them.
  const digest = sha256Hex(canonicalJson({ type, module, matchImages, tokenAttributes, options }));
  const files = fileOptions(options).map((file) => path.resolve(configDir, file));
  if (module !== undefined) files.push(module);
  return { digest, files };
}

/** The paths named by file options anywhere in options, by option name (key order is no change, as above). */
export function fileOptions(options: unknown): string[] {
  const found: string[] = [];
  const visit = (value: unknown, depth: number) => {
    if (typeof value !== "object" || value === null || depth > 8) return;
    for (const [name, field] of Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (namesReadFiles(name) && typeof field === "string") found.push(field);
      else if (namesReadFiles(name) && Array.isArray(field)) found.push(...field.filter((item): item is string => typeof item === "string"));
      else visit(field, depth + 1);
    }
  };
  visit(options, 0);
  return found;
}

/**
 * What changes whenever the file is written, replaced or removed: device, inode, size, and the
 * modification and change times in nanoseconds (a rewrite that restores the mtime still sets the
 * ctime). Followed through symlinks, as providers read them: a Kubernetes secret volume swaps its
 * `..data` link, which gives the path another inode.
 */
function fileIdentity(file: string): string {
  try {
    const stat = fs.statSync(file, { bigint: true, throwIfNoEntry: false });
    return stat ? `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}` : "missing";
  } catch (error) {
    return `unreadable:${(error as NodeJS.ErrnoException).code ?? ""}`;
  }
}

/** JSON with every object's keys in sorted order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_name, field: unknown) => {
    if (typeof field !== "object" || field === null || Array.isArray(field)) return field;
    const sorted: Record<string, unknown> = {};
    for (const name of Object.keys(field).sort()) sorted[name] = (field as Record<string, unknown>)[name];
    return sorted;
  }) ?? "";
}

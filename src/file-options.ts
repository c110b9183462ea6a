// The files and programs a config's providers name, and whether the exec will find them: a
// docker config file, a secret file, a CA bundle, a module, a credential helper, a chained plugin.
// Found by one naming rule over every provider's options (`files`, `*File`, `*Files`, `module`,
// `command`, `helper`), so a provider type added later is checked without a list to keep up to date.
// Relative paths are resolved against the config's directory, as the providers resolve them.
import fs from "node:fs";
import path from "node:path";
import { formatPath } from "./config.js";

/** One path-valued option of one provider, as the exec will use it. */
export interface FileOption {
  /** Where it is in the config: `providers[0].files[1] (provider "harbor")`. */
  at: string;
  /** As written. */
  value: string;
  /** The absolute path the exec opens, or for a program looked up on the PATH, the name it runs. */
  resolved: string;
  /** What the exec does with it. */
  use: "read" | "run";
  /** A program the exec finds on its PATH (a helper's suffix, a command without a '/'). */
  onPath: boolean;
}

const PROGRAM_OPTIONS: Readonly<Record<string, (value: string) => string>> = {
  // credential-helper: a suffix runs docker-credential-SUFFIX from the PATH (providers/credential-helper.ts).
  helper: (value) => `docker-credential-${value}`,
  // kubelet-plugin: a name runs from the PATH (providers/kubelet-plugin.ts).
  command: (value) => value,
};

/**
 * Whether an option's name says it holds paths of files the provider reads, by the naming every
 * provider follows: a path for `file`/`*File` (`clientSecretFile`, `caFile`), a list of paths for
 * `files`/`*Files` (`dockerConfigFiles`). An operator's module that names its options so is covered too.
 */
export function namesReadFiles(key: string): boolean {
  return /(?:^f|F)iles?$/.test(key);
}

/** Whether an option's name says it holds paths: files read, the module, or a program run. */
export function isFileOption(key: string): boolean {
  return namesReadFiles(key) || key === "module" || key in PROGRAM_OPTIONS;
}

/** Every path-valued option of the providers of a parsed config document. */
export function fileOptionsOf(document: unknown, configDir: string): FileOption[] {
  const providers = (document as { providers?: unknown } | null)?.providers;
  if (!Array.isArray(providers)) return [];
  const found: FileOption[] = [];
  providers.forEach((entry, index) => {
    if (typeof entry !== "object" || entry === null) return;
    for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
      if (!isFileOption(key)) continue;
      const values = typeof value === "string" ? [[value, undefined] as const] : Array.isArray(value) ? value.map((item, at) => [item, at] as const) : [];
      for (const [item, at] of values) {
        if (typeof item !== "string" || item === "") continue;
        const where = formatPath(["providers", index, key, ...(at === undefined ? [] : [at])], document);
        const program = PROGRAM_OPTIONS[key];
        const onPath = program !== undefined && !item.includes("/");
        found.push({ at: where, value: item, resolved: onPath ? program(item) : path.resolve(configDir, item), use: program !== undefined ? "run" : "read", onPath });
      }
    }
  });
  return found;
}

/** How the exec would fail on this option, as the part of a line after its path; undefined when it would not. */
export function fileOptionProblem(option: FileOption, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (option.onPath) {
    const dirs = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
    const runnable = dirs.map((dir) => path.join(dir, option.resolved)).find((file) => accessProblem(file, "run") === undefined);
    return runnable ? undefined : `${option.resolved}: not found on the PATH (${dirs.join(path.delimiter) || "empty"}) as a program this user can run`;
  }
  const problem = accessProblem(option.resolved, option.use);
  return problem && `${describeOption(option)}: ${problem}`;
}

/** The path as shown: resolved, with what was written when that differs. */
export function describeOption(option: FileOption): string {
  return option.resolved === option.value ? option.resolved : `${option.resolved} (written "${option.value}")`;
}

function accessProblem(file: string, use: FileOption["use"]): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === "ENOENT" || code === "ENOTDIR" ? "no such file" : `cannot reach it (${code ?? (error as Error).message})`;
  }
  if (!stat.isFile()) return "not a regular file";
  try {
    fs.accessSync(file, use === "run" ? fs.constants.X_OK : fs.constants.R_OK);
  } catch {
    return use === "run" ? "not executable by this user" : "not readable by this user";
  }
  return undefined;
}

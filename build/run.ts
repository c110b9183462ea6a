// Programs the build runs (npm, strip, the Node it builds with), waited for.
import { spawnSync, type SpawnSyncOptions } from "node:child_process";

/** Runs `command` and returns its stdout; throws with its stderr when it fails. */
export function run(command: string, args: readonly string[], options: SpawnSyncOptions = {}): string {
  const result = spawnSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
  if (result.error) throw new Error(`${command} ${args.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited with ${result.status}: ${String(result.stderr || result.stdout).trim()}`);
  return String(result.stdout);
}

/** `file`'s stdout, trimmed, when it runs here and exits 0 within a minute; else undefined. */
export function canRun(file: string, args: readonly string[]): string | undefined {
  const result = spawnSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

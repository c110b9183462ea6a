// Running another program under the exec's deadline (docker credential helpers, chained kubelet
// plugins). The child gets a process group of its own, so that the child and everything it started
// are killed together once it has exited (its answer read) or at the deadline: the kubelet kills
// only its direct child, and a grandchild left running, or holding a pipe, would otherwise outlive
// credmux and pile up on the node. Beyond reach: a descendant that leaves the group (setsid,
// setpgid) is not killed; one that holds a pipe delays the answer by EXIT_GRACE_MS at most.
import { ProviderError } from "../provider.js";
import type { SecretSet } from "../secrets.js";
import { StderrTail } from "./stderr-tail.js";

/** One program to run: what, with which arguments, environment and stdin, under which deadline. */
export interface ChildRun {
  /** The program: a path, or a name looked up on the PATH of `env`. */
  command: string;
  args: readonly string[];
  /** The child's whole environment. */
  env: Readonly<Record<string, string | undefined>>;
  /** Written to the child's stdin, which is then closed. */
  stdin: string;
  signal: AbortSignal;
  /** What the program is, for messages: "docker-credential-ecr-login (from credsStore of /root/.docker/config.json)". */
  what: string;
  /** The child is killed, and the run fails, beyond this many bytes of stdout (default 1 MiB). */
  maxStdoutBytes?: number;
}

/** How the program ended, and what it printed. */
export interface ChildResult {
  /** The exit status; null when a signal ended the child. */
  status: number | null;
  exitSignal: NodeJS.Signals | null;
  stdout: string;
  /** At most the last 16 KiB, in whole lines. */
  stderr: string;
}

const MAX_STDERR_BYTES = 16 << 10;
/**
 * How long, after the child has exited and its group was killed, its pipes may take to report
 * their end. Killed processes let go of them at once; only one that left the group (setsid) can
 * hold them open, and what the child wrote before it exited is already in the pipe by then.
 */
const EXIT_GRACE_MS = 150;

/**
 * Runs the command until it exits, then kills its whole process group and resolves with what it
 * printed; at the deadline (signal) kills the group and rejects.
 */
export function runChild(run: ChildRun): Promise<ChildResult> {
  const { spawn } = require("node:child_process") as typeof import("node:child_process");
  return new Promise<ChildResult>((resolve, reject) => {
    if (run.signal.aborted) return reject(deadlineError(run));
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(run.env)) if (value !== undefined) env[name] = value;
    let child: import("node:child_process").ChildProcessWithoutNullStreams;
    try {
      // detached: the child leads a new session and process group, whose id is its pid.
      child = spawn(run.command, [...run.args], { env, detached: true, stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      return reject(spawnError(run, error));
    }
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      run.signal.removeEventListener("abort", onAbort);
      clearTimeout(graceTimer);
      outcome();
    };
    const killDescendants = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const killGroup = () => {
      killDescendants();
      child.stdout.destroy();
      child.stderr.destroy();
    };
    // Synchronous, so that the group is dead before the run's failure can make credmux exit.
    const onAbort = () => finish(() => {
      killGroup();
      reject(deadlineError(run));
    });
    run.signal.addEventListener("abort", onAbort, { once: true });

    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    const limit = run.maxStdoutBytes ?? 1 << 20;
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > limit) {
        finish(() => {
          killGroup();
          reject(new ProviderError(`${run.what}: printed more than ${limit} bytes on stdout; killed it`));
        });
        return;
      }
      stdout.push(chunk);
    });
    const stderr = new StderrTail(MAX_STDERR_BYTES);
    child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => finish(() => {
      killGroup();
      reject(spawnError(run, error));
    }));
    // The run ends when the child exits, not when its pipes close: a grandchild it left behind may
    // hold them open for as long as it runs. The group is killed at once (success included), which
    // closes the pipes of every process still in it; what the child wrote is read until they close,
    // or until the grace ends when one that left the group still holds them.
    child.on("exit", (status, exitSignal) => {
      killDescendants();
      const result = () => finish(() => {
        killGroup();
        resolve({ status, exitSignal, stdout: Buffer.concat(stdout).toString("utf8"), stderr: stderr.text() });
      });
      child.on("close", result);
      graceTimer = setTimeout(result, EXIT_GRACE_MS);
    });
    // A child that exits without reading its stdin must not fail the run with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(run.stdin);
  });
}

/** The last non-empty line of a program's diagnostic output, every known secret masked, bounded, for a one-line error. */
export function lastLine(text: string, secrets: SecretSet, max = 300): string {
  // Masked before it is split and cut: a secret holding a newline, or one the cut falls into,
  // would otherwise be printed in part, and a part is not something the printed line's mask finds.
  const lines = secrets.mask(text).split(/\r?\n/).map((line) => line.trim()).filter(Boolean);
  return secrets.maskAndBound(lines[lines.length - 1] ?? "", max);
}

/** credmux's environment plus the config's `env` entries for a child; their values are remembered as secrets, since they carry tokens. */
export function childEnvironment(
  base: Readonly<Record<string, string | undefined>>, entries: ReadonlyArray<{ name: string; value: string }> | undefined, secrets: SecretSet,
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...base };
  for (const { name, value } of entries ?? []) {
    secrets.add(value);
    env[name] = value;
  }
  return env;
}

/** "exit status 2" or "killed by SIGSEGV", as an operator reads it. */
export function describeExit(result: Pick<ChildResult, "status" | "exitSignal">): string {
  return result.exitSignal ? `was killed by ${result.exitSignal}` : `exited with status ${result.status}`;
}

function deadlineError(run: ChildRun): ProviderError {
  return new ProviderError(`${run.what}: no answer before the deadline; killed it and its process group`,
    "the deadline is defaults.timeout; check what the program waits for (a network endpoint, a keychain prompt)");
}

function spawnError(run: ChildRun, error: unknown): ProviderError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") {
    return new ProviderError(`${run.what}: cannot run it: ${run.command.includes("/") ? "no such file" : "not found on the PATH"}`,
      run.command.includes("/") ? "check the configured path" : `install it, or check the PATH the kubelet passes to credmux`);
  }
  if (code === "EACCES") return new ProviderError(`${run.what}: cannot run it: permission denied`, "check that the file is executable by the kubelet's user");
  return new ProviderError(`${run.what}: cannot run it (${code ?? (error as Error).message})`);
}

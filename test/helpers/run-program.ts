// Runs a program the way the tests need it run: in a process group of its own, the input on stdin,
// stdout and stderr collected, and the whole group killed if it has not ended within a bound that
// only a hang can reach (never a slow machine), so that a test fails with a message, not a stall.
import { spawn } from "node:child_process";

/** How a program ended, and what it printed. */
export interface ProgramRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /**
   * stderr without its JSON log lines: what a person reads. The kubelet plugin logs its failure as
   * a JSON line, then writes the one human line the kubelet shows; human commands log no JSON.
   */
  human: string;
}

/** A line pino wrote: a JSON object with a level. */
function isLogLine(line: string): boolean {
  if (!line.startsWith("{")) return false;
  try {
    return typeof (JSON.parse(line) as { level?: unknown }).level === "string";
  } catch {
    return false;
  }
}

/** stderr's lines that are not JSON log lines, each with its newline. */
export function humanLines(stderr: string): string {
  return stderr.split(/(?<=\n)/).filter((line) => !isLogLine(line.trimEnd())).join("");
}

export interface ProgramOptions {
  stdin?: string;
  /** The whole environment (nothing is inherited). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user and group (root only). */
  uid?: number;
  gid?: number;
  /** Kill the process group after this long; the default is well under the kubelet's 60 s. */
  timeoutMs?: number;
}

/** What a program that has not ended by then is taken to hang at: the kubelet gives an exec plugin 60 s. */
export const HANG_BOUND_MS = 45_000;

/** Runs `file args`; rejects (after killing its process group) when it has not ended within timeoutMs. */
export function runProgram(file: string, args: readonly string[], options: ProgramOptions = {}): Promise<ProgramRun> {
  const timeoutMs = options.timeoutMs ?? HANG_BOUND_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? {},
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
      // A group of its own: a timeout kills what it started too, and nothing outlives the test.
      detached: true,
      ...(options.uid !== undefined ? { uid: options.uid, gid: options.gid ?? options.uid } : {}),
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => {
      killGroup(child.pid);
      reject(new Error(`${file} ${args.join(" ")} did not end within ${timeoutMs / 1000} s; stderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, human: humanLines(stderr) });
    });
    child.stdin.on("error", () => { /* the program may exit before reading stdin */ });
    child.stdin.end(options.stdin ?? "");
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // The group is gone already.
  }
}

// What the programs credmux runs (credential helpers, chained plugins) leave behind: live members of
// a process group and live processes, read from /proc; the forking fixture that starts descendants
// and records their pids; and the cleanup that kills whatever a test expected to escape.
import fs from "node:fs";
import path from "node:path";
import { after } from "node:test";
import { FIXTURES } from "./paths.js";
import { tempDir } from "./temp.js";

/** One descendant the forking fixture starts (test/fixtures/faults/forking-program.js). */
export interface Descendant {
  holdsStdout: boolean;
  depth: 1 | 2;
  ownSession: boolean;
}

/** The pids the forking fixture recorded: its own, those of its group's descendants, and those that left the group. */
export interface ForkPids {
  program: number;
  descendants: number[];
  sessions: number[];
}

/** The process's state letter from /proc, or undefined when it is gone. */
function processState(pid: number): { state: string; pgid: number } | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0]!, pgid: Number(fields[2]) };
}

/** Whether pid is a running process (a zombie is dead: it only waits to be reaped). */
export function isRunning(pid: number): boolean {
  const state = processState(pid)?.state;
  return state !== undefined && state !== "Z";
}

/** Live members of a process group, from /proc. */
export function liveMembers(pgid: number): number[] {
  const live: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const process = processState(Number(entry));
    if (process && process.pgid === pgid && process.state !== "Z") live.push(Number(entry));
  }
  return live;
}

/**
 * The processes of `pids` and of the groups `groups` still running once they have had a moment to
 * die (a SIGKILL is delivered asynchronously): polls for at most ~5 s, so a test ends either way.
 */
export async function stillRunning(pids: readonly number[], groups: readonly number[] = []): Promise<number[]> {
  const running = () => [...new Set([...pids.filter(isRunning), ...groups.flatMap(liveMembers)])];
  let live = running();
  for (let i = 0; i < 100 && live.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    live = running();
  }
  return live;
}

/**
 * When the test file ends, SIGKILLs every process (and its group) the forking fixture recorded in
 * the pid file: what a test expected to escape, or what a failing run left behind. Registered
 * before the file's directory, whose removal (also an after hook) must come later.
 */
function killRecordedAfter(pidFile: () => string | undefined): void {
  after(() => {
    const file = pidFile();
    if (file === undefined) return;
    const pids = readForkPids(file);
    for (const pid of [pids.program, ...pids.descendants, ...pids.sessions].filter((pid) => pid > 0)) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  });
}

/** The forking fixture as an executable in a fresh directory, with the file its pids go to (killed when the test file ends). */
export function installForkingProgram(name = "forking-program"): { program: string; pidFile: string; bin: string } {
  let pidFile: string | undefined;
  killRecordedAfter(() => pidFile);
  const bin = tempDir("credmux-forking-");
  const program = path.join(bin, name);
  fs.copyFileSync(path.join(FIXTURES, "faults", "forking-program.js"), program);
  fs.chmodSync(program, 0o755);
  pidFile = path.join(bin, "pids");
  return { program, pidFile, bin };
}

/** The pids the forking fixture wrote to pidFile (none when it never ran). */
export function readForkPids(pidFile: string): ForkPids {
  const pids: ForkPids = { program: 0, descendants: [], sessions: [] };
  const text = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8") : "";
  for (const line of text.split("\n").filter(Boolean)) {
    const [kind, pid] = line.split(" ");
    if (kind === "program") pids.program = Number(pid);
    else if (kind === "session") pids.sessions.push(Number(pid));
    else pids.descendants.push(Number(pid));
  }
  return pids;
}

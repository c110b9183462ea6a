// The kubelet plugin run inside a process of its own from the transpiled tree (not the bundle), so
// that what the exec loads can be read off require.cache: runCli with an io of its own, under the
// boot host a bundle's loader hands the main code (src/startup/boot-host.ts), so that it notes its config
// and reads notes as the bundle does. One child process per exec:
//   node .build/test/helpers/plugin-in-process.js BUILD_ID ARGS...   (the request on stdin)
// prints one JSON line, an InProcessRun.
import fs from "node:fs";
import path from "node:path";
import type { BootHost } from "../../src/startup/boot-host.js";
import { runProgram } from "./run-program.js";
import { REPO_ROOT } from "./paths.js";

/** One exec: its exit status, what it wrote, and each module file it loaded, relative to .build/. */
export interface InProcessRun {
  status: number;
  stdout: string;
  stderr: string;
  loaded: string[];
}

/** Runs the plugin with args and stdin in a fresh process; buildId names the notes it may trust. */
export async function runPluginInProcess(buildId: string, args: readonly string[], stdin: string, env: NodeJS.ProcessEnv = {}): Promise<InProcessRun> {
  const run = await runProgram(process.execPath, [__filename, buildId, ...args], { stdin, env: { PATH: process.env.PATH, ...env } });
  if (run.status !== 0) throw new Error(`plugin-in-process exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as InProcessRun;
}

async function main(buildId: string, args: string[]): Promise<void> {
  const host: BootHost = { codeCache: undefined, buildId, importModule: (specifier) => import(specifier) };
  (globalThis as { __credmuxHost?: BootHost }).__credmuxHost = host;
  // Required only now, so that every module of the exec is loaded under the host, as in the bundle.
  const { runCli } = require("../../src/cli.js") as typeof import("../../src/cli.js");
  let stdout = "";
  let stderr = "";
  const status = await runCli(args, {
    readStdin: async () => fs.readFileSync(0, "utf8"),
    stdinIsTerminal: false,
    writeStdout: (text) => { stdout += text; },
    writeStderr: (text) => { stderr += text; },
    env: process.env,
    cwd: process.cwd(),
    now: Date.now,
    logFd: 2,
  });
  const build = path.join(REPO_ROOT, ".build");
  const loaded = Object.keys(require.cache).map((file) => path.relative(build, file));
  fs.writeSync(1, `${JSON.stringify({ status, stdout, stderr, loaded } satisfies InProcessRun)}\n`);
  // As src/main.ts does: the answer is out, and nothing left running may hold the process.
  process.exit(0);
}

if (require.main === module) {
  const [buildId, ...args] = process.argv.slice(2);
  void main(buildId!, args);
}

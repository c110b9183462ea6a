// Runs the built bundle the way the kubelet does: a fresh process, the request on stdin, a hard
// timeout, stdout and stderr captured.
import { spawn } from "node:child_process";
import { BUNDLE } from "./paths.js";

export interface BundleRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface BundleOptions {
  stdin?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** A clean environment: the kubelet's usually has neither NODE_OPTIONS nor NODE_EXTRA_CA_CERTS. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Runs `node dist/credmux.cjs ...args`; kills it (and fails the run) after timeoutMs. */
export function runBundle(args: readonly string[], options: BundleOptions = {}): Promise<BundleRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE, ...args], {
      env: baseEnv(options.env),
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => { stdout += chunk; });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => { stderr += chunk; });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`credmux ${args.join(" ")} did not finish within ${options.timeoutMs ?? 15_000} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? 15_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    child.stdin.on("error", () => { /* the plugin may exit before reading stdin */ });
    child.stdin.end(options.stdin ?? "");
  });
}

// Runs the built bundle the way the kubelet does: a fresh process, the request on stdin, stdout and
// stderr captured, and killed (with its process group) only if it hangs past a generous bound.
import { BUNDLE } from "./paths.js";
import { runProgram, type ProgramOptions, type ProgramRun } from "./run-program.js";

export type BundleRun = ProgramRun;

export interface BundleOptions extends Omit<ProgramOptions, "env"> {
  /** Added to baseEnv(); undefined values are left out. */
  env?: Record<string, string | undefined>;
  /** Node options before the bundle (e.g. --require a probe). */
  nodeArgs?: readonly string[];
}

/** A clean environment: the kubelet's usually has neither NODE_OPTIONS nor NODE_EXTRA_CA_CERTS. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ PATH: process.env.PATH, HOME: process.env.HOME, ...extra })) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** Runs `node dist/credmux.cjs ...args`; kills it (and fails the run) when it hangs past timeoutMs. */
export function runBundle(args: readonly string[], options: BundleOptions = {}): Promise<BundleRun> {
  const { nodeArgs = [], env, ...rest } = options;
  return runProgram(process.execPath, [...nodeArgs, BUNDLE, ...args], { ...rest, env: baseEnv(env) });
}

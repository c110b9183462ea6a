// Runs fast-check properties the same way everywhere: a fixed seed per property (npm test, CI), so
// that a red run is a regression and never the luck of the draw; fresh seeds only when asked for
// (npm run fuzz); and on failure the seed, the shrink path and the counterexample on stderr and in
// the error, with the command line that replays exactly that case. A failing seed found by fuzzing
// becomes a named example test.
//   FC_SEED=n            the seed for every property in the run
//   FC_SEED=random       a fresh seed for each property (what npm run fuzz sets)
//   FC_PATH=p            replay one shrunk case (with FC_SEED, and FC_PROPERTY naming the property)
//   FC_RUNS_SCALE=x      multiplies every numRuns (0.1 while editing, 10 for a soak)
import * as fc from "fast-check";
import type { TestContext } from "node:test";

export interface PropertyOptions {
  /** Generated cases for this property in one ordinary `npm test` run. */
  numRuns: number;
}

/** What a property run did, for the suite's case count. */
export interface PropertyReport {
  name: string;
  numRuns: number;
  seed: number;
  ms: number;
}

/** The seed a property runs with: FC_SEED, a fresh one for FC_SEED=random, else a fixed one per property. */
export function propertySeed(name: string, env: Readonly<Record<string, string | undefined>> = process.env): number {
  if (env.FC_SEED === "random") return (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0;
  if (env.FC_SEED !== undefined && env.FC_SEED !== "") {
    const seed = Number(env.FC_SEED);
    if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer or "random", found ${JSON.stringify(env.FC_SEED)}`);
    return seed | 0;
  }
  // A per-property constant: every run checks the same cases, and two properties do not share a stream.
  return stableHash(`credmux:${name}`);
}

function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash | 0;
}

/** numRuns scaled by FC_RUNS_SCALE, never below 1. */
export function scaledRuns(numRuns: number, env: Readonly<Record<string, string | undefined>> = process.env): number {
  const scale = env.FC_RUNS_SCALE === undefined || env.FC_RUNS_SCALE === "" ? 1 : Number(env.FC_RUNS_SCALE);
  if (!(scale > 0)) throw new Error(`FC_RUNS_SCALE must be a positive number, found ${JSON.stringify(env.FC_RUNS_SCALE)}`);
  return Math.max(1, Math.round(numRuns * scale));
}

/**
 * Checks a property (sync or async) inside a node:test test; reports the number of cases as a test
 * diagnostic, and fails the test with the seed, path and counterexample, also written to stderr.
 */
export async function checkProperty<Ts extends [unknown, ...unknown[]]>(
  t: TestContext,
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  options: PropertyOptions,
): Promise<PropertyReport> {
  const name = t.name;
  const seed = propertySeed(name);
  const replayPath = process.env.FC_PATH && (!process.env.FC_PROPERTY || process.env.FC_PROPERTY === name) ? process.env.FC_PATH : undefined;
  const numRuns = scaledRuns(options.numRuns);
  const started = Date.now();
  const details = await fc.check(property as fc.IAsyncProperty<Ts>, {
    seed,
    numRuns,
    ...(replayPath ? { path: replayPath, endOnFailure: true } : {}),
  });
  const ms = Date.now() - started;
  if (details.failed) {
    const counterexample = details.counterexample === null ? "(none)" : fc.stringify(details.counterexample);
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    const replay = `FC_SEED=${details.seed} FC_PATH=${details.counterexamplePath} FC_PROPERTY=${JSON.stringify(name)}`;
    const message = [
      `property "${name}" failed after ${details.numRuns} case(s) and ${details.numShrinks} shrink(s)`,
      `  seed ${details.seed}, path ${details.counterexamplePath}`,
      `  replay: ${replay} node --test ${process.argv[1] ?? ""}`,
      `  or all its cases: FC_SEED=${details.seed} node --test ${process.argv[1] ?? ""}`,
      `  counterexample: ${counterexample.length > 2000 ? `${counterexample.slice(0, 2000)}... (${counterexample.length} chars)` : counterexample}`,
      `  ${cause.split("\n").join("\n  ")}`,
    ].join("\n");
    process.stderr.write(`${message}\n`);
    throw new Error(message, { cause: details.errorInstance });
  }
  if (details.interrupted) throw new Error(`property "${name}" was interrupted after ${details.numRuns} case(s); seed ${seed}`);
  t.diagnostic(`property cases: ${details.numRuns} in ${ms} ms (seed ${seed})`);
  return { name, numRuns: details.numRuns, seed, ms };
}

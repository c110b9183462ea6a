// Fault injection for the programs credmux runs (docker credential helpers, chained kubelet
// plugins), through the built bundle: generated programs that start 0..3 background descendants
// (holding stdout or not, a sleep or a shell with a sleep of its own, some in a session of their
// own) and then answer or fail. After every run the answer is right (the credential, or the
// program's one error line) and no process of the program's group is left running; a descendant
// that left the group (setsid) is beyond reach (README, Security) and only must not hold up the
// answer. The deadline is 20 s and the bundle's run is bounded by 15 s: a run that waits for the
// deadline fails the case.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fc from "fast-check";
import { checkProperty } from "./helpers/property.js";
import { installForkingProgram, readForkPids, stillRunning, type Descendant } from "./helpers/processes.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const SECRET = "forked-secret-Rt83";

interface ProgramProvider {
  label: string;
  entry(program: string): Record<string, unknown>;
  /** The one stderr line credmux prints when the program fails (the fixture's own message in it). */
  failure(program: string): string;
}

const PROGRAM_PROVIDERS: ProgramProvider[] = [
  {
    label: "credential-helper",
    entry: (program) => ({ type: "credential-helper", helper: program }),
    failure: (program) => `credmux: provider p (credential-helper): ${program} (from the provider's helper option) exited with status 1 for reg.fork.test: the credentials store is locked for reg.fork.test (run the helper by hand as the kubelet's user: printf SERVER | docker-credential-NAME get)`,
  },
  {
    label: "kubelet-plugin",
    entry: (program) => ({ type: "kubelet-plugin", command: program }),
    failure: (program) => `credmux: provider p (kubelet-plugin): ${program} exited with status 1 for reg.fork.test/app: the token exchange refused reg.fork.test/app (run the plugin by hand with the same request to see why)`,
  },
];

const descendantArbitrary: fc.Arbitrary<Descendant> = fc.record({
  holdsStdout: fc.boolean(),
  depth: fc.constantFrom(1 as const, 2 as const),
  // Mostly in the group: a session of its own only shows that it cannot hold up the answer.
  ownSession: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
});

const caseArbitrary = fc.record({
  // By label, so that a counterexample reads as one.
  provider: fc.constantFrom(...PROGRAM_PROVIDERS.map((provider) => provider.label)),
  outcome: fc.constantFrom("ok" as const, "fail" as const),
  descendants: fc.array(descendantArbitrary, { maxLength: 3 }),
});

test("programs that leave descendants behind: the answer is right and nothing of their group is left running", async (t) => {
  await checkProperty(t, fc.asyncProperty(caseArbitrary, async ({ provider: label, outcome, descendants }) => {
    const provider = PROGRAM_PROVIDERS.find((candidate) => candidate.label === label)!;
    const { program, pidFile } = installForkingProgram();
    const config = writeConfig(tempDir(), {
      defaults: { timeout: "20s" },
      providers: [{ name: "p", matchImages: ["reg.fork.test"], ...provider.entry(program) }],
    });
    const run = await runBundle(["--config", config], {
      stdin: `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image: "reg.fork.test/app" })}\n`,
      env: { FORK_SPEC: JSON.stringify(descendants), FORK_PIDS: pidFile, FORK_OUTCOME: outcome, FORK_SECRET: SECRET },
    });
    if (outcome === "ok") {
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout).auth, { "reg.fork.test": { username: "forking-user", password: SECRET } });
    } else {
      assert.equal(run.status, 1);
      assert.equal(run.stdout, "");
      assert.deepEqual(run.stderr.split("\n").filter((line) => line.startsWith("credmux: ")), [provider.failure(program)]);
    }
    const pids = readForkPids(pidFile);
    assert.ok(pids.program > 0, "the program ran");
    assert.ok(pids.sessions.length >= descendants.filter((d) => d.ownSession).length, "every descendant was started");
    assert.deepEqual(await stillRunning(pids.descendants, [pids.program]), [], "processes of the program's group still running");
  }), { numRuns: 16 });
});

// Which keys an answer holds (issue 15, "wrong place"): a path-scoped key behind a mirror is answered
// under the mirrored path and never as the whole `from` registry, and a key the kubelet's single
// normalisation would store differently from what credmux answers is dropped, not "settled".
// Through the built bundle, with the operator's credentials in a docker config file, as on a node.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { lookupCredentials } from "../src/match.js";
import type { AuthEntry } from "../src/protocol.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const cred = (username: string, password: string): AuthEntry => ({ username, password });

interface Answer {
  cacheKeyType: string;
  auth: Record<string, AuthEntry>;
}

/** A config whose one dockercfg provider serves `registry` from a docker config holding `auths`. */
function dockerConfigSetup(auths: Record<string, AuthEntry>, registry: string, extra: object = {}): string {
  const dir = tempDir();
  const file = path.join(dir, "docker-config.json");
  fs.writeFileSync(file, JSON.stringify({ auths }));
  return writeConfig(dir, { ...extra, providers: [{ name: "cfg", type: "dockercfg", matchImages: [registry], files: [file] }] });
}

async function pull(config: string, image: string): Promise<{ answer: Answer; stderr: string }> {
  const run = await runBundle(["--config", config], { stdin: JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image }) });
  assert.equal(run.status, 0, run.stderr);
  return { answer: JSON.parse(run.stdout) as Answer, stderr: run.stderr };
}

/** The warnings of a run: its JSON log lines at level warn, without their time. */
function warnings(stderr: string): Array<Record<string, unknown>> {
  return stderr.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.level === "warn").map(({ time: _time, level: _level, ...rest }) => rest);
}

/** The credentials the kubelet tries for image when it reuses `answer` (Registry) or uses it (Image). */
function kubeletTries(answer: Answer, image: string): AuthEntry[] {
  return lookupCredentials(Object.entries(answer.auth), image);
}

const DROPPED = "dropping an auth key the kubelet would store as another key than credmux can answer";

test("through the bundle: a docker config key the kubelet stores as reg.test/v2/team is not answered as reg.test/team", async () => {
  const config = dockerConfigSetup({ "reg.test/v2/v2/team": cred("u", "pw"), "reg.test/a%2520b": cred("pct", "pw-pct") }, "reg.test");
  for (const image of ["reg.test/team/app", "reg.test/v2/team/app", "reg.test/a/app"]) {
    const { answer, stderr } = await pull(config, image);
    assert.deepEqual(answer.auth, {}, image);
    assert.deepEqual(warnings(stderr), [
      { msg: DROPPED, provider: "cfg", key: "reg.test/v2/v2/team", storedAs: "reg.test/v2/team" },
      { msg: DROPPED, provider: "cfg", key: "reg.test/a%2520b", storedAs: "reg.test/a%20b" },
    ], image);
  }
});

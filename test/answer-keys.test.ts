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

test("through the bundle: path-scoped keys behind a mirror are answered under the mirrored paths, never as the from registry", async () => {
  const config = dockerConfigSetup({
    "reg.test/mirror/library": cred("ulib", "pw-lib"),
    "reg.test/mirror/acme": cred("uacme", "pw-acme"),
    "reg.test/other": cred("uother", "pw-other"),
  }, "reg.test", { mirrors: [{ from: "docker.io", to: "reg.test/mirror" }] });
  const { answer } = await pull(config, "docker.io/library/nginx");
  // Every key of the mirror that serves some docker.io image, under the docker.io path it serves;
  // reg.test/other serves no image of the mirror and is left out.
  assert.deepEqual(answer.auth, { "docker.io/library": cred("ulib", "pw-lib"), "docker.io/acme": cred("uacme", "pw-acme") });
  assert.equal(answer.cacheKeyType, "Registry");
  // Reused registry-wide, the answer gives each repository the credential of its own mirror path.
  assert.deepEqual(kubeletTries(answer, "docker.io/acme/app"), [cred("uacme", "pw-acme")]);
  assert.deepEqual(kubeletTries(answer, "docker.io/team/app"), []);
  assert.deepEqual((await pull(config, "docker.io/acme/app")).answer, answer);
});

test("through the bundle: a mirror with paths on both sides maps each mirror key onto the from path it serves", async () => {
  const config = dockerConfigSetup({
    "reg.test": cred("all", "pw-all"),
    "reg.test/cache/hub/team": cred("team", "pw-team"),
    "reg.test/cache/hub/teamx": cred("teamx", "pw-teamx"),
    "reg.test/cache/other": cred("other", "pw-other"),
  }, "reg.test", { mirrors: [{ from: "docker.io/", to: "reg.test/cache/hub/" }, { from: "quay.test/org/", to: "reg.test/cache/hub/team" }] });
  const hub = (await pull(config, "docker.io/team/app")).answer;
  assert.deepEqual(hub.auth, { "docker.io": cred("all", "pw-all"), "docker.io/team": cred("team", "pw-team"), "docker.io/teamx": cred("teamx", "pw-teamx") });
  assert.equal(hub.cacheKeyType, "Registry");
  assert.deepEqual(kubeletTries(hub, "docker.io/team/app"), [cred("team", "pw-team"), cred("all", "pw-all")]);
  // "from" ends in "/": its images are quay.test/org/..., mirrored to reg.test/cache/hub/team/...;
  // reg.test/cache/hub/teamx serves none of them and must not become quay.test/orgx.
  const quay = (await pull(config, "quay.test/org/app")).answer;
  assert.deepEqual(quay.auth, { "quay.test/org/": cred("team", "pw-team") });
  assert.equal(quay.cacheKeyType, "Image");
});

test("through the bundle: a mirrored answer is Image-keyed when another rule sends part of the same registry elsewhere", async () => {
  const config = dockerConfigSetup({ "reg.test": cred("hub", "pw-hub"), "team.test": cred("team", "pw-team") }, "*.test", {
    mirrors: [{ from: "docker.io/team", to: "team.test/hub-team" }, { from: "docker.io", to: "reg.test/hub" }],
  });
  const { answer } = await pull(config, "docker.io/library/nginx");
  assert.deepEqual(answer.auth, { "docker.io": cred("hub", "pw-hub") });
  // Reused for docker.io/team/app, "docker.io" would send reg.test's credential to team.test's mirror.
  assert.equal(answer.cacheKeyType, "Image");
  assert.deepEqual((await pull(config, "docker.io/team/app")).answer.auth, { "docker.io/team/": cred("team", "pw-team") });
});

test("through the bundle: a from path names repositories: registry.test/team neither takes registry.test/teamx nor answers a key that reaches it", async () => {
  const config = dockerConfigSetup({ "mirror.test": cred("m", "pw-m"), "registry.test": cred("d", "pw-d") }, "*.test", {
    mirrors: [{ from: "registry.test/team", to: "mirror.test/cache/team" }],
  });
  const team = (await pull(config, "registry.test/team/app")).answer;
  assert.deepEqual(team.auth, { "registry.test/team/": cred("m", "pw-m") });
  assert.equal(team.cacheKeyType, "Image");
  const teamx = (await pull(config, "registry.test/teamx/app")).answer;
  assert.deepEqual(teamx.auth, { "registry.test": cred("d", "pw-d") });
  assert.equal(teamx.cacheKeyType, "Image");
});

test("through the bundle: a mirror key whose from-side key the kubelet would read differently is dropped with a warning", async () => {
  const config = dockerConfigSetup({ "reg.test/m/team": cred("u", "pw") }, "reg.test", { mirrors: [{ from: "hub.test/v2/", to: "reg.test/m" }] });
  const { answer, stderr } = await pull(config, "hub.test/v2/team/app");
  // "hub.test/v2/team" would be stored by the kubelet as "hub.test/team": another set of images.
  assert.deepEqual(answer.auth, {});
  assert.deepEqual(warnings(stderr), [{
    msg: "dropping a mirror key: the from images it serves have no auth key the kubelet would store as such",
    mirrorKey: "reg.test/m/team", from: "hub.test/v2/", to: "reg.test/m",
  }]);
});

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

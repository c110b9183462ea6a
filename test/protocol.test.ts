// The kubelet's side of the contract, driven through the built bundle as a child process with JSON
// fixtures: good requests in all three apiVersions, and bad input of every kind.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FIXTURES } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";

interface Case {
  name: string;
  config: string;
  stdin: unknown;
  response?: Record<string, unknown>;
  stderr?: string;
}

const cases = JSON.parse(fs.readFileSync(path.join(FIXTURES, "protocol-cases.json"), "utf8")) as { good: Case[]; bad: Case[] };
const RESPONSE_FIELDS = ["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"];

function stdinOf(c: Case): string {
  return typeof c.stdin === "string" ? c.stdin : `${JSON.stringify(c.stdin)}\n`;
}

for (const c of cases.good) {
  test(`good request: ${c.name}`, async () => {
    const run = await runBundle(["--config", path.join(FIXTURES, "configs", c.config)], { stdin: stdinOf(c) });
    assert.equal(run.status, 0, `exit status; stderr: ${run.stderr}`);
    assert.ok(run.stdout.endsWith("}\n") && run.stdout.indexOf("\n") === run.stdout.length - 1, "exactly one JSON line on stdout");
    const response = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(response), RESPONSE_FIELDS, "only the fields the kubelet's strict decoder knows");
    for (const entry of Object.values(response.auth as Record<string, object>)) assert.deepEqual(Object.keys(entry), ["username", "password"]);
    assert.equal(response.apiVersion, (c.stdin as { apiVersion: string }).apiVersion, "answered in the request's apiVersion");
    assert.deepEqual(response, c.response);
  });
}

assert.ok(cases.bad.length >= 15, "at least 15 bad-input fixtures");
for (const c of cases.bad) {
  test(`bad input: ${c.name}`, async () => {
    const run = await runBundle(["--config", path.join(FIXTURES, "configs", c.config)], { stdin: stdinOf(c) });
    assert.equal(run.status, 1, `exit status; stderr: ${run.stderr}`);
    assert.equal(run.stdout, "", "nothing on stdout");
    // For log collectors, one JSON error line; then, last, the one human line the kubelet shows.
    const lines = run.stderr.split("\n").filter((line) => line !== "");
    assert.equal(lines.length, 2, `a JSON line and a human line on stderr, found: ${run.stderr}`);
    const logged = JSON.parse(lines[0]!) as Record<string, unknown>;
    // A provider's failure names the image; a request or config failure comes before there is one.
    assert.deepEqual(Object.keys(logged), ["level", "time", ...(logged.image === undefined ? [] : ["image"]), "msg"]);
    assert.equal(logged.level, "error");
    assert.match(lines[1]!, /^credmux: /);
    assert.equal(`credmux: ${logged.msg}`, lines[1], "the JSON line's msg is the human line");
    assert.ok(lines[1]!.includes(c.stderr!), `stderr names the problem: expected to include ${JSON.stringify(c.stderr)}, found ${JSON.stringify(lines[1])}`);
    assert.doesNotMatch(run.stderr, /\n\s+at |Error: .*\n/, "no stack trace");
  });
}

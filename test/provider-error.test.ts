// A provider's errors: one factory per type, whose reasons carry no prefix; the dispatcher names the
// configured provider and its type in front, once, on every line an operator reads.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CredmuxError } from "../src/errors.js";
import { HttpStatusError } from "../src/provider-kit/http-client.js";
import { ProviderError, providerError } from "../src/provider.js";
import { loadConfig } from "../src/config.js";
import { Dispatcher, providerLabel } from "../src/dispatch.js";
import { SecretSet } from "../src/secrets.js";
import { CaptureLog } from "./helpers/capture-log.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const fail = providerError("acr");

test("the factory's errors carry the reason as given, the hint, the cause and the provider's type", () => {
  const cause = new Error("ECONNRESET");
  const error = fail("registry r.test answered without a refresh_token", "check the registry", { cause });
  assert.ok(error instanceof ProviderError && error instanceof CredmuxError);
  assert.equal(error.kind, "provider");
  assert.equal(error.message, "registry r.test answered without a refresh_token");
  assert.equal(error.hint, "check the registry");
  assert.equal(error.cause, cause);
  assert.equal(error.providerType, "acr");
  assert.equal(error.toLine(), "registry r.test answered without a refresh_token (check the registry)");
});

test("withHint gives a step's hint to a helper's error without one, and leaves the provider's own and hinted ones as they are", () => {
  const hint = "check the managed identity";
  const response = { status: 401, headers: {}, body: "" };
  const request = { url: "http://127.0.0.1/token", signal: new AbortController().signal, what: "managed identity endpoint http://127.0.0.1/token" };
  const own = fail("managed identity endpoint answered without an access_token");
  const hinted = new ProviderError("token endpoint: no answer before the deadline", "check that the endpoint is reachable from the node");
  // [case, what the step threw, the line, whether that very error passes on]
  const cases: Array<[string, unknown, string, boolean]> = [
    ["an HTTP answer", new HttpStatusError(request, response, "answered HTTP 401"), "managed identity endpoint http://127.0.0.1/token answered HTTP 401 (check the managed identity)", false],
    ["a plain Error", new TypeError("Invalid URL"), "Invalid URL (check the managed identity)", false],
    ["the provider's own error", own, "managed identity endpoint answered without an access_token", true],
    ["a helper's error with a hint", hinted, "token endpoint: no answer before the deadline (check that the endpoint is reachable from the node)", true],
  ];
  for (const [name, thrown, line, same] of cases) {
    const error = fail.withHint(thrown, hint);
    assert.equal(error.toLine(), line, name);
    assert.equal(error === thrown, same, name);
    if (!same) assert.deepEqual([error.providerType, error.cause], ["acr", thrown], `${name}: now the provider's, caused by what was thrown`);
  }
});

test("a provider is named once: its name and its type, or its name alone when that is the type", () => {
  assert.equal(providerLabel({ name: "azure", type: "acr" }), "azure (acr)");
  assert.equal(providerLabel({ name: "ecr", type: "ecr" }), "ecr");
});

test("the dispatcher puts that one prefix in front of a built-in provider's reason and keeps its hint", async () => {
  const dir = tempDir();
  const entry = { type: "token", matchImages: ["registry.test"], username: "bot", secretEnv: "REGISTRY_TOKEN" };
  const hint = "set it in the kubelet's environment (a systemd drop-in), or use secretFile";
  for (const [name, line] of [
    ["robot", `provider robot (token): environment variable REGISTRY_TOKEN is not set (${hint})`],
    ["token", `provider token: environment variable REGISTRY_TOKEN is not set (${hint})`],
  ] as const) {
    const config = await loadConfig(writeConfig(dir, { providers: [{ name, ...entry }] }));
    const dispatcher = new Dispatcher(config, { log: new CaptureLog(), secrets: new SecretSet(), now: Date.now, env: {}, cwd: dir });
    const resolution = await dispatcher.resolve({ apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "registry.test/app" });
    assert.equal(resolution.failure?.toLine(), line, name);
    assert.equal((resolution.failure?.cause as ProviderError).providerType, "token", `${name}: the provider's own error is the cause`);
  }
});

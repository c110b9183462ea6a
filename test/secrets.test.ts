// No secret from any fixture reaches stderr or the log file, at any log level, on success or on
// any failure path.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { FIXTURES } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const SA_TOKEN = "sa-token-secret-9";

/** Every password and every docker `auth` value in the fixtures, plus the request's token. */
function fixtureSecrets(): string[] {
  const secrets = new Set<string>([SA_TOKEN, "refresh-secret-4", "provider-secret-10"]);
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      for (const [key, inner] of Object.entries(value)) {
        if (["password", "auth", "identitytoken", "registrytoken"].includes(key) && typeof inner === "string" && inner.length >= 4) {
          secrets.add(inner);
          if (key === "auth") {
            const decoded = Buffer.from(inner, "base64").toString("utf8");
            const password = decoded.slice(decoded.indexOf(":") + 1);
            if (decoded.includes(":") && password.length >= 4) secrets.add(password);
          }
        } else walk(inner);
      }
    }
  };
  for (const file of fs.readdirSync(path.join(FIXTURES, "dockercfg"))) {
    try {
      walk(JSON.parse(fs.readFileSync(path.join(FIXTURES, "dockercfg", file), "utf8")));
    } catch { /* the malformed fixture */ }
  }
  secrets.add("no-colon-here-secret-8");
  return [...secrets];
}

const SECRETS = fixtureSecrets();
const dockercfg = (name: string) => path.join(FIXTURES, "dockercfg", name);
const request = (image: string) => `${JSON.stringify({
  kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image, serviceAccountToken: SA_TOKEN,
})}\n`;

const scenarios: Array<{ name: string; provider: object; image: string; exit: number }> = [
  { name: "success with several keys", provider: { type: "dockercfg", matchImages: ["registry.test", "registry.test:5000"], files: [dockercfg("registry.json")] }, image: "registry.test/team-a/app", exit: 0 },
  { name: "legacy file", provider: { type: "dockercfg", matchImages: ["legacy.test"], files: [dockercfg("legacy.dockercfg")] }, image: "legacy.test/x", exit: 0 },
  { name: "a broader key dropped with a warning", provider: { type: "dockercfg", matchImages: ["registry.test/team-a"], files: [dockercfg("registry.json")] }, image: "registry.test/team-a/app", exit: 0 },
  { name: "auth that is not base64", provider: { type: "dockercfg", matchImages: ["registry.test"], files: [dockercfg("bad-base64.json")] }, image: "registry.test/x", exit: 1 },
  { name: "auth without a colon", provider: { type: "dockercfg", matchImages: ["registry.test"], files: [dockercfg("no-colon.json")] }, image: "registry.test/x", exit: 1 },
  { name: "malformed file", provider: { type: "dockercfg", matchImages: ["registry.test"], files: [dockercfg("malformed.json")] }, image: "registry.test/x", exit: 1 },
  {
    name: "a provider error that quotes the token it was given",
    provider: {
      type: "module", module: path.join(FIXTURES, "providers", "scripted-provider.js"), matchImages: ["registry.test"],
      fail: `token ${SA_TOKEN} was refused`,
      tokenAttributes: { serviceAccountTokenAudience: "registry.test", cacheType: "ServiceAccount", requireServiceAccount: true },
    },
    image: "registry.test/x", exit: 1,
  },
  {
    name: "a provider error that quotes a credential it returned earlier in the run",
    provider: {
      type: "module", module: path.join(FIXTURES, "providers", "scripted-provider.js"), matchImages: ["registry.test"],
      answer: { "*.test": { username: "u", password: "provider-secret-10" } },
    },
    image: "registry.test/x", exit: 0,
  },
];

for (const level of ["debug", "info", "warn", "error"]) {
  for (const scenario of scenarios) {
    test(`no secret on stderr or in the log file: ${scenario.name}, log level ${level}`, async () => {
      const dir = tempDir();
      const logFile = path.join(dir, "credmux.log");
      const config = writeConfig(dir, { log: { level, file: logFile }, providers: [{ name: "p", ...scenario.provider }] });
      const run = await runBundle(["--config", config], { stdin: request(scenario.image) });
      assert.equal(run.status, scenario.exit, run.stderr);
      const logged = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8") : "";
      if (level === "debug") assert.ok(run.stderr.length > 0, "debug level logs something");
      for (const secret of SECRETS) {
        assert.ok(!run.stderr.includes(secret), `stderr contains the secret ${secret.slice(0, 3)}...: ${run.stderr}`);
        assert.ok(!logged.includes(secret), `the log file contains the secret ${secret.slice(0, 3)}...`);
      }
      if (scenario.exit === 1 && level !== "silent") assert.ok(logged.includes('"level":"error"'), "the failure is recorded in the log file");
    });
  }
}

// A config error says where, what was expected and the type of what was found, never the value:
// a secret put in the wrong field (a token as args, an indentation slip) must not reach the error
// line of the plugin, `validate` or `check`. Parse errors do not quote the text either.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir } from "./helpers/temp.js";

const SECRET = "tok-SECRET-9f8e7d6c";
const HEAD = "apiVersion: credmux/v1alpha1\nkind: Config\ncache: {dir: \"\"}\n";
const entry = (fields: string) => `${HEAD}providers:\n  - name: p\n    matchImages: [reg.test]\n${fields}`;
const PROVIDER_TYPES = '"dockercfg", "token", "oauth2", "credential-helper", "kubelet-plugin", "gcp", "acr", "alibaba", "ecr", "module"';

const CASES: Array<{ name: string; text: string; error: string }> = [
  {
    name: "a token given as the plugin's args",
    text: entry(`    type: kubelet-plugin\n    command: /bin/plugin\n    args: "--token=${SECRET}"\n`),
    error: 'providers[0].args (provider "p"): expected a list, found a string',
  },
  {
    name: "a list where an env value goes",
    text: entry(`    type: kubelet-plugin\n    command: /bin/plugin\n    env:\n      - name: TOKEN\n        value: [${SECRET}]\n`),
    error: 'providers[0].env[0].value (provider "p"): expected a string, found a list of 1',
  },
  {
    name: "a token as the provider type",
    text: entry(`    type: ${SECRET}\n`),
    error: `providers[0] (provider "p"): type: unknown provider type, expected one of ${PROVIDER_TYPES}`,
  },
  {
    name: "a token as the provider name",
    text: `${HEAD}providers:\n  - name: ${SECRET}!\n    type: dockercfg\n    files: [a.json]\n`,
    error: "providers[0].name: expected a name of letters, digits, '.', '_' and '-' (at most 63), starting with a letter or digit, found a string",
  },
  {
    name: "a token as an enum option",
    text: `${HEAD}onFailure: ${SECRET}\nproviders: [{name: p, type: ecr}]\n`,
    error: 'onFailure: expected one of "error", "empty", found a string',
  },
  {
    name: "a token as a duration",
    text: `${HEAD}defaults: {timeout: ${SECRET}}\nproviders: [{name: p, type: ecr}]\n`,
    error: 'defaults.timeout: expected the deadline for one kubelet exec as a Go duration such as "30s", "5m" or "1h30m", at most 2562047h (Go\'s limit), found a string',
  },
  {
    name: "a token as a token endpoint",
    text: entry(`    type: oauth2\n    tokenUrl: ${SECRET}\n    grant: client_credentials\n    username: u\n    clientId: c\n`),
    error: 'providers[0].tokenUrl (provider "p"): expected an http:// or https:// URL, found a string',
  },
  {
    name: "a token as a matchImages pattern",
    text: `${HEAD}providers: [{name: p, type: ecr, matchImages: ["${SECRET} x"]}]\n`,
    error: 'providers[0].matchImages[0] (provider "p"): expected a kubelet matchImages pattern (host[:port][/path], `*` within host labels); the kubelet cannot parse this one, found a string',
  },
  {
    name: "a token as a YAML alias",
    text: `${HEAD}providers: *${SECRET}\n`,
    error: "malformed YAML: Unresolved alias (the anchor must be set before the alias)",
  },
  {
    name: "a token as a YAML tag",
    text: `${HEAD}onFailure: !${SECRET}!x error\nproviders: [{name: p, type: ecr}]\n`,
    error: "malformed YAML: line 4, column 12: Could not resolve tag",
  },
  {
    name: "a token after a YAML block scalar's header",
    text: `${HEAD}onFailure: |${SECRET}\n  error\nproviders: [{name: p, type: ecr}]\n`,
    error: "malformed YAML: line 4, column 13: Block scalar header includes extra characters",
  },
];

for (const c of CASES) {
  test(`config error without the value: ${c.name}`, async () => {
    const dir = tempDir();
    const config = path.join(dir, "config.yaml");
    fs.writeFileSync(config, c.text);
    const request = JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: "reg.test/app" });
    for (const args of [["--config", config], ["validate", "--config", config], ["check", "reg.test/app", "--config", config]]) {
      const run = await runBundle(args, { stdin: request });
      assert.equal(run.status, 1, `${args[0]}: ${run.stderr}`);
      assert.equal(run.stdout, "", args[0]);
      assert.equal(run.human, `credmux: config ${config}: ${c.error}\n`, args[0]);
      assert.ok(!run.stderr.includes("9f8e7d6c"), `${args[0]} shows the secret`);
    }
  });
}

test("every problem of a config is reported at once, with a did-you-mean for a misspelt field", async () => {
  const dir = tempDir();
  const config = path.join(dir, "config.yaml");
  fs.writeFileSync(config, `apiVersion: credmux/v1alpha1
kind: Config
cahce: {dir: ""}
providers:
  - name: aliyun
    type: alibaba
    matchImages: ["*.cr.aliyuncs.com"]
    accessKeySecret: /etc/credmux/secret
  - name: harbor
    type: token
    username: robot
    secretFiel: /etc/credmux/harbor-token
    matchImages: ["harbor.example.com"]
  - name: hub
    type: dockercfg
    matchImage: [docker.io]
`);
  const run = await runBundle(["validate", "--config", config]);
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.human, `credmux: config ${config}: top level: unknown field "cahce" (did you mean "cache"?)\n`, "the top level first");
  fs.writeFileSync(config, fs.readFileSync(config, "utf8").replace("cahce", "cache"));
  const all = await runBundle(["validate", "--config", config]);
  assert.equal(all.status, 1, all.stderr);
  assert.equal(all.human, `credmux: config ${config}: ${[
    'providers[0] (provider "aliyun"): unknown field "accessKeySecret" (did you mean "accessKeySecretFile"?)',
    'providers[1] (provider "harbor"): unknown field "secretFiel" (did you mean "secretFile"?)',
    'providers[1] (provider "harbor"): expected exactly one of secretFile and secretEnv, where the token comes from',
    'providers[2] (provider "hub"): unknown field "matchImage" (did you mean "matchImages"?)',
  ].join("; ")}\n`);
});

// The start-up contract of a kubelet exec whose config this build noted as valid
// (src/startup/config-snapshot.ts): a credential-cache hit builds no zod schema and loads no provider
// module; a miss loads the one provider it asks, and still builds no schema. Read off require.cache
// of the plugin run in a process of its own from the transpiled tree (helpers/plugin-in-process.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startOAuthServer } from "./helpers/oauth-server.js";
import { runPluginInProcess, type InProcessRun } from "./helpers/plugin-in-process.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const BUILD = "5eed5eed5eed5eed";
const V1 = "credentialprovider.kubelet.k8s.io/v1";
const CLIENT_SECRET = "client-secret-startup-3v1";

const request = (image: string) => `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image })}\n`;

/** zod's own files, and the module that loads it (src/provider-kit/schema.ts's deferred half). */
const zodFiles = (run: InProcessRun) => run.loaded.filter((file) => /(^|\/)node_modules\/zod\//.test(file) || file === path.join("src", "provider-kit", "zod-functions.js"));
/** Provider modules of providers/, but the registry, which only names them. */
const providerFiles = (run: InProcessRun) => run.loaded.filter((file) => file.startsWith(`providers${path.sep}`) && file !== path.join("providers", "registry.js"));

test("a noted config and a credential-cache hit: no zod schema built, no provider module loaded; a miss loads only the provider it asks", async () => {
  const server = await startOAuthServer({ clientAuth: "basic", clientId: "robot", clientSecret: CLIENT_SECRET, fields: { grant_type: ["client_credentials"] } });
  server.mode = { kind: "token", expiresIn: 3600 };
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, "client-secret"), `${CLIENT_SECRET}\n`);
  const config = writeConfig(dir, {
    cache: { dir: path.join(dir, "cache") },
    providers: [
      { name: "idp", type: "oauth2", matchImages: ["*.oauth.test"], tokenUrl: server.url, grant: "client_credentials", username: "robot", clientId: "robot", clientSecretFile: "client-secret" },
      // Default patterns, which a noted run takes from the note, not from the provider.
      { name: "ecr", type: "ecr" },
    ],
  });
  const exec = (image: string) => runPluginInProcess(BUILD, ["--config", config], request(image));

  const first = await exec("a.oauth.test/team/app");
  assert.equal(first.status, 0, first.stderr);
  // What the probe sees when the exec validates: zod, and every provider the config names.
  assert.notDeepEqual(zodFiles(first), [], "the validating run loads zod");
  assert.deepEqual(providerFiles(first).sort(), [path.join("providers", "ecr.js"), path.join("providers", "ecr-endpoints.js"), path.join("providers", "ecr-hosts.js"), path.join("providers", "oauth2.js")].sort());

  const hit = await exec("a.oauth.test/team/app");
  assert.equal(hit.status, 0, hit.stderr);
  assert.deepEqual(JSON.parse(hit.stdout).auth, JSON.parse(first.stdout).auth, "the same credentials, from the cache");
  assert.equal(server.requests.length, 1, "answered from the credential cache");
  assert.deepEqual(zodFiles(hit), [], "no schema built");
  assert.deepEqual(providerFiles(hit), [], "no provider module loaded");

  const miss = await exec("b.oauth.test/team/app");
  assert.equal(miss.status, 0, miss.stderr);
  assert.equal(server.requests.length, 2, "another registry: asked upstream");
  assert.deepEqual(zodFiles(miss), [], "no schema built");
  assert.deepEqual(providerFiles(miss), [path.join("providers", "oauth2.js")], "only the provider asked");
});

// End to end against a real registry: Debian's docker-registry with htpasswd auth on 127.0.0.1, a
// tiny image pushed with skopeo, and credmux's answers (through the dockercfg, token and oauth2
// providers) turned into an auth file the way a container runtime uses the kubelet's credentials.
// skopeo reads the image with them, and is refused with a wrong password or none.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startOAuthServer } from "./helpers/oauth-server.js";
import { authFileFromResponse, makeOciLayout, pushImage, REGISTRY_PACKAGES, REGISTRY_TOOLS, skopeo, startRegistry, type TestRegistry } from "./helpers/registry.js";
import { skipUnlessTools } from "./helpers/required-tools.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const V1 = "credentialprovider.kubelet.k8s.io/v1";
const REPOSITORY = "test/hello";
const password = () => crypto.randomBytes(12).toString("base64url");

/** One kubelet exec of the bundle for the image; the response's auth map. */
async function credmuxAuth(config: string, image: string, secrets: readonly string[]) {
  const run = await runBundle(["--config", config, "--log-level", "debug"], { stdin: `${JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: V1, image })}\n` });
  assert.equal(run.status, 0, run.stderr);
  for (const secret of secrets) assert.equal(run.stderr.includes(secret), false, "a secret reached stderr");
  return JSON.parse(run.stdout).auth as Record<string, { username: string; password: string }>;
}

async function inspect(registry: TestRegistry, authFile: string | undefined) {
  const auth = authFile ? ["--authfile", authFile] : ["--no-creds"];
  return skopeo(registry, ["inspect", ...auth, "--tls-verify=false", `docker://${registry.host}/${REPOSITORY}:latest`]);
}

test("credmux's credentials from dockercfg, token and oauth2 let skopeo read an image from a real registry; wrong ones are refused", { timeout: 600_000 }, async (t) => {
  const skip = skipUnlessTools(REGISTRY_TOOLS, REGISTRY_PACKAGES);
  if (skip) return t.skip(skip);
  const started = Date.now();
  const dir = tempDir("credmux-e2e-");
  const users = { pusher: password(), "harbor-robot": password(), "ci-token": password(), "oauth-robot": password() };
  const registry = await startRegistry(path.join(dir, "registry"), users);
  const digest = makeOciLayout(path.join(dir, "image"));
  await pushImage(registry, path.join(dir, "image"), REPOSITORY, "pusher", users.pusher);
  const image = `${registry.host}/${REPOSITORY}`;
  const setupMs = Date.now() - started;

  // The registry really wants credentials.
  const anonymous = await inspect(registry, undefined);
  assert.notEqual(anonymous.status, 0);
  assert.match(anonymous.stderr, /unauthorized|authentication required/i);

  // dockercfg: an operator's docker config file.
  fs.writeFileSync(path.join(dir, "harbor-config.json"), JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`harbor-robot:${users["harbor-robot"]}`).toString("base64") } } }));
  // token: a mounted secret, re-read every exec.
  fs.writeFileSync(path.join(dir, "ci-token"), `${users["ci-token"]}\n`);
  // oauth2: a client-credentials grant at a loopback identity provider whose access token the registry takes as the password.
  fs.writeFileSync(path.join(dir, "client-secret"), "idp-client-secret-e2e");
  const idp = await startOAuthServer({ clientAuth: "basic", clientId: "node", clientSecret: "idp-client-secret-e2e", fields: { grant_type: ["client_credentials"], scope: ["pull"] } });
  idp.mode = { kind: "token", accessToken: users["oauth-robot"], expiresIn: 600 };

  const providers: Record<string, object> = {
    dockercfg: { type: "dockercfg", files: ["harbor-config.json"] },
    token: { type: "token", username: "ci-token", secretFile: "ci-token" },
    oauth2: { type: "oauth2", tokenUrl: idp.url, grant: "client_credentials", clientId: "node", clientSecretFile: "client-secret", scope: "pull", username: "oauth-robot" },
  };
  for (const [type, options] of Object.entries(providers)) {
    const config = writeConfig(dir, { providers: [{ name: `e2e-${type}`, matchImages: [registry.host], ...options }] }, `${type}.json`);
    const auth = await credmuxAuth(config, image, Object.values(users));
    assert.deepEqual(Object.keys(auth), [registry.host], type);
    const result = await inspect(registry, authFileFromResponse(auth, path.join(dir, `${type}-auth.json`)));
    assert.equal(result.status, 0, `${type}: skopeo inspect failed: ${result.stderr}`);
    assert.equal(JSON.parse(result.stdout).Digest, digest, type);
  }
  assert.equal(idp.requests.length, 1);

  // A wrong password, answered by credmux as faithfully as a right one, is refused by the registry.
  fs.writeFileSync(path.join(dir, "ci-token"), "not-the-password\n");
  const wrong = await credmuxAuth(path.join(dir, "token.json"), image, Object.values(users));
  assert.equal(wrong[registry.host]!.password, "not-the-password");
  const refused = await inspect(registry, authFileFromResponse(wrong, path.join(dir, "wrong-auth.json")));
  assert.notEqual(refused.status, 0);
  assert.match(refused.stderr, /unauthorized|authentication required/i);

  await registry.stop();
  t.diagnostic(`e2e: ${Date.now() - started} ms in all, ${setupMs} ms of it starting the registry and pushing the image`);
});

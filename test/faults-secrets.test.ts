// Faults that try to make credmux print a secret in the form it was sent, or in part: a token
// endpoint echoing the Basic header or the form body it was sent, a credential helper or chained
// plugin printing the environment or request it was given, and a child whose secret straddles
// the cut of the error line or of the stderr credmux keeps. Through the built bundle: the exec
// path (child processes, the one error line, the log file) is what is tried.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { listenOnLoopback } from "./helpers/failure-mode.js";
import { FIXTURES } from "./helpers/paths.js";
import { runBundle } from "./helpers/run-bundle.js";
import { tempDir, writeConfig } from "./helpers/temp.js";

const ECHO = path.join(FIXTURES, "faults", "echo-program.js");
const IMAGE = "reg.test/team/app";
const SECRET = "s3cr3t value+/&=\"<ok>\"-9f8e7d6c";
const SA_TOKEN = 'sa-Token-"quoted"<and>&-5b4a3c2d';
const SA_ATTRIBUTES = { serviceAccountTokenAudience: "reg.test", cacheType: "ServiceAccount", requireServiceAccount: true };

/** Every piece of 8 characters or more of the value: a part of a secret is as bad as all of it. */
function pieces(value: string): string[] {
  const found: string[] = [];
  for (let start = 0; start + 8 <= value.length; start++) found.push(value.slice(start, start + 8));
  return found;
}

const formEncode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2);
const b64 = (text: string) => Buffer.from(text).toString("base64");
/** What credmux sends or a child is given, in the forms a careless upstream echoes them. */
const SHOWN_FORMS = [
  SECRET, JSON.stringify(SECRET), formEncode(SECRET), encodeURIComponent(SECRET), b64(`credmux:${SECRET}`), b64(`credmux:${formEncode(SECRET)}`),
  SA_TOKEN, JSON.stringify(SA_TOKEN), JSON.stringify(SA_TOKEN).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`), formEncode(SA_TOKEN),
];

/** A token endpoint that refuses every request, quoting its Authorization header and body. */
async function startEchoingTokenEndpoint(): Promise<string> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => { body += chunk; }).on("end", () => {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({
        error: "invalid_client", error_description: `refused ${req.headers.authorization ?? "no authorization"} with ${body}`,
      }));
    });
  });
  const { base, close } = await listenOnLoopback(server, new Set());
  after(close);
  return `${base}/token`;
}

interface Case {
  name: string;
  provider(dir: string, tokenUrl: string): Record<string, unknown>;
  /** The kubelet's environment for the exec (where a child's template comes from). */
  env?: Record<string, string>;
  /** The error line on stderr after `credmux: provider p (TYPE): `, pinned. */
  stderr(dir: string, tokenUrl: string): string;
}

const echoPlugin = (extra: object = {}) => ({ type: "kubelet-plugin", command: ECHO, tokenAttributes: SA_ATTRIBUTES, ...extra });
const echoHelper = (extra: object = {}) => ({ type: "credential-helper", helper: ECHO, ...extra });
const pluginFailed = `${ECHO} exited with status 3 for ${IMAGE}`;
const helperFailed = `${ECHO} (from the provider's helper option) exited with status 3 for reg.test`;
const PLUGIN_HINT = "(run the plugin by hand with the same request to see why)";
const HELPER_HINT = "(run the helper by hand as the kubelet's user: printf SERVER | docker-credential-NAME get)";

const CASES: Case[] = [
  {
    name: "a token endpoint echoing the Basic header it was sent",
    provider: (dir, tokenUrl) => ({ type: "oauth2", tokenUrl, grant: "client_credentials", username: "oauth2", clientId: "credmux", clientSecretFile: writeText(dir, "secret", SECRET) }),
    stderr: (_, tokenUrl) => `token endpoint ${tokenUrl} answered HTTP 401: invalid_client: refused Basic *** with grant_type=client_credentials (check clientId, clientSecretFile and clientAuth against the client registered at the identity provider)`,
  },
  {
    name: "a token endpoint echoing the form body it was sent",
    provider: (dir, tokenUrl) => ({ type: "oauth2", tokenUrl, grant: "client_credentials", username: "oauth2", clientId: "credmux", clientAuth: "body", clientSecretFile: writeText(dir, "secret", SECRET) }),
    stderr: (_, tokenUrl) => `token endpoint ${tokenUrl} answered HTTP 401: invalid_client: refused no authorization with grant_type=client_credentials&client_id=credmux&client_secret=*** (check clientId, clientSecretFile and clientAuth against the client registered at the identity provider)`,
  },
  {
    name: "a credential helper printing a variable of its configured env",
    provider: () => echoHelper({ env: [{ name: "VAULT_TOKEN", value: SECRET }] }),
    env: { ECHO_TEMPLATE: "vault refused the token {env:VAULT_TOKEN}\n" },
    stderr: () => `${helperFailed}: vault refused the token *** ${HELPER_HINT}`,
  },
  {
    name: "a chained plugin printing a variable of its configured env",
    provider: () => echoPlugin({ env: [{ name: "VAULT_TOKEN", value: SECRET }] }),
    env: { ECHO_TEMPLATE: "vault refused the token {env:VAULT_TOKEN}\n" },
    stderr: () => `${pluginFailed}: vault refused the token *** ${PLUGIN_HINT}`,
  },
  {
    name: "a chained plugin printing the request it was sent (the token JSON-escaped as Go escapes it)",
    provider: () => echoPlugin(),
    env: { ECHO_TEMPLATE: "refused {stdin}" },
    stderr: () => `${pluginFailed}: refused {"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"${IMAGE}","serviceAccountToken":"***"} ${PLUGIN_HINT}`,
  },
  {
    name: "a chained plugin whose message holds the token across the 300-character cut",
    provider: () => echoPlugin(),
    env: { ECHO_TEMPLATE: `${"x".repeat(290)} {token} ${"y".repeat(100)}\n` },
    stderr: () => `${pluginFailed}: ${"x".repeat(290)} *** yyyyy... ${PLUGIN_HINT}`,
  },
  {
    // The last 16 KiB of stderr are kept: this one line ends 16 KiB less 10 bytes after the token.
    name: "a chained plugin whose one long line holds the token across the 16 KiB that are kept",
    provider: () => echoPlugin(),
    env: { ECHO_TEMPLATE: `${"x".repeat(5000)}{token}${"y".repeat((16 << 10) - 10)}` },
    stderr: () => `${pluginFailed} ${PLUGIN_HINT}`,
  },
];

function writeText(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

for (const c of CASES) {
  test(`no secret, whole or in part, on stderr or in the log file: ${c.name}`, async () => {
    const tokenUrl = await startEchoingTokenEndpoint();
    const dir = tempDir();
    const logFile = path.join(dir, "credmux.log");
    const entry = c.provider(dir, tokenUrl);
    const config = writeConfig(dir, { log: { level: "debug", file: logFile }, providers: [{ name: "p", matchImages: ["reg.test"], ...entry }] });
    const stdin = JSON.stringify({ kind: "CredentialProviderRequest", apiVersion: "credentialprovider.kubelet.k8s.io/v1", image: IMAGE, serviceAccountToken: SA_TOKEN });
    const run = await runBundle(["--config", config], { stdin, env: c.env });
    assert.equal(run.status, 1, run.stderr);
    const errorLines = run.stderr.split("\n").filter((line) => line.startsWith("credmux: "));
    assert.deepEqual(errorLines, [`credmux: provider p (${String(entry.type)}): ${c.stderr(dir, tokenUrl)}`]);
    const logged = fs.readFileSync(logFile, "utf8");
    for (const form of SHOWN_FORMS) {
      for (const piece of pieces(form)) {
        assert.ok(!run.stderr.includes(piece), `stderr shows ${JSON.stringify(piece)} of ${JSON.stringify(form)}`);
        assert.ok(!logged.includes(piece), `the log file shows ${JSON.stringify(piece)} of ${JSON.stringify(form)}`);
      }
    }
  });
}

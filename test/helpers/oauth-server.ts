// A loopback OAuth 2.0 token endpoint (RFC 6749 section 4.4 client credentials, RFC 8693 token
// exchange) that checks every form field of a request against what the test expects: the exact
// set of fields with all their values, the content type, and the client authentication, decoded
// the RFC 6749 2.3.1 way. A request that differs gets the 400 invalid_request a strict server
// would give, naming the difference, so the test's failure says what was wrong.
import http from "node:http";
import https from "node:https";
import { after } from "node:test";
import { listenOnLoopback } from "./failure-mode.js";

/** What a correct token request carries. */
export interface OAuthExpectation {
  /** The form fields besides client authentication, each with all its values in order. */
  fields: Record<string, string[]>;
  clientId?: string;
  clientSecret?: string;
  /** basic: an Authorization header; body: client_id/client_secret fields; none: neither. */
  clientAuth: "basic" | "body" | "none";
}

/** What the endpoint does with a request that passed the checks. */
export type OAuthMode =
  | { kind: "token"; accessToken?: string; expiresIn?: number | string; extra?: Record<string, unknown> }
  | { kind: "error"; status: number; error: string; description?: string }
  | { kind: "html" }
  | { kind: "hang" };

/** A token request as the endpoint saw it. */
export interface RecordedTokenRequest {
  method: string;
  contentType: string | undefined;
  authorization: string | undefined;
  form: Array<[string, string]>;
}

/** The running endpoint; expect, mode and delayMs may be changed between requests. */
export interface OAuthServer {
  url: string;
  /** The underlying server, for a CONNECT proxy to hand tunnels to (TLS only). */
  server: http.Server | https.Server;
  expect: OAuthExpectation;
  mode: OAuthMode;
  delayMs: number;
  readonly requests: RecordedTokenRequest[];
  /** Every access token handed out. */
  readonly issued: string[];
  close(): Promise<void>;
}

const formDecode = (text: string) => decodeURIComponent(text.replace(/\+/g, " "));

/** Checks a request against the expectation; undefined when it matches, else what differs. */
export function checkTokenRequest(request: RecordedTokenRequest, expect: OAuthExpectation): string | undefined {
  if (request.method !== "POST") return `method ${request.method}, expected POST`;
  if (request.contentType?.split(";")[0]?.trim() !== "application/x-www-form-urlencoded") return `content-type ${request.contentType}, expected application/x-www-form-urlencoded`;
  const form = request.form.filter(([key]) => expect.clientAuth !== "body" || (key !== "client_id" && key !== "client_secret"));
  if (expect.clientAuth === "basic") {
    const match = /^Basic (.+)$/.exec(request.authorization ?? "");
    if (!match) return "no HTTP Basic client authentication";
    const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (formDecode(decoded.slice(0, colon)) !== expect.clientId || formDecode(decoded.slice(colon + 1)) !== expect.clientSecret) return "wrong client credentials in HTTP Basic";
  } else if (expect.clientAuth === "body") {
    if (request.authorization) return "unexpected Authorization header";
    const id = request.form.filter(([key]) => key === "client_id").map(([, value]) => value);
    const secret = request.form.filter(([key]) => key === "client_secret").map(([, value]) => value);
    if (id.length !== 1 || id[0] !== expect.clientId) return "wrong client_id in the form";
    if (expect.clientSecret === undefined ? secret.length !== 0 : secret.length !== 1 || secret[0] !== expect.clientSecret) return "wrong client_secret in the form";
  } else if (request.authorization) {
    return "unexpected Authorization header";
  }
  const actual: Record<string, string[]> = {};
  for (const [key, value] of form) (actual[key] ??= []).push(value);
  const keys = new Set([...Object.keys(actual), ...Object.keys(expect.fields)]);
  for (const key of [...keys].sort()) {
    const got = JSON.stringify(actual[key] ?? []);
    const want = JSON.stringify(expect.fields[key] ?? []);
    // Never echo subject_token: it is a secret, and this text reaches credmux's error message.
    if (got !== want) return `field ${key}: ${key === "subject_token" ? "wrong value" : `got ${got}, expected ${want}`}`;
  }
  return undefined;
}

/** Starts the endpoint on 127.0.0.1 (https when given a certificate); closed when the test file finishes. */
export async function startOAuthServer(expect: OAuthExpectation, tls?: { cert: Buffer; key: Buffer }): Promise<OAuthServer> {
  const requests: RecordedTokenRequest[] = [];
  const issued: string[] = [];
  const hanging = new Set<http.ServerResponse>();
  const state: { expect: OAuthExpectation; mode: OAuthMode; delayMs: number } = { expect, mode: { kind: "token" }, delayMs: 0 };
  const handler: http.RequestListener = (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => { body += chunk; });
    req.on("end", () => {
      const recorded: RecordedTokenRequest = {
        method: req.method ?? "",
        contentType: req.headers["content-type"],
        authorization: req.headers.authorization,
        form: [...new URLSearchParams(body).entries()],
      };
      requests.push(recorded);
      const mode = state.mode;
      if (mode.kind === "hang") {
        hanging.add(res);
        return;
      }
      setTimeout(() => {
        const json = (status: number, value: unknown) => res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(value));
        const problem = checkTokenRequest(recorded, state.expect);
        if (problem) return json(400, { error: "invalid_request", error_description: problem });
        if (mode.kind === "html") return res.writeHead(200, { "content-type": "text/html" }).end("<html><body><h1>Sign in</h1></body></html>");
        if (mode.kind === "error") return json(mode.status, { error: mode.error, ...(mode.description ? { error_description: mode.description } : {}) });
        const accessToken = mode.accessToken ?? `at-${requests.length}-${Math.random().toString(36).slice(2, 12)}`;
        issued.push(accessToken);
        json(200, { access_token: accessToken, token_type: "Bearer", ...(mode.expiresIn !== undefined ? { expires_in: mode.expiresIn } : {}), ...mode.extra });
      }, state.delayMs);
    });
  };
  const server = tls ? https.createServer({ cert: tls.cert, key: tls.key }, handler) : http.createServer(handler);
  const { base, close } = await listenOnLoopback(server, hanging);
  after(close);
  return {
    url: `${base}/oauth2/token`,
    server,
    get expect() { return state.expect; },
    set expect(value) { state.expect = value; },
    get mode() { return state.mode; },
    set mode(value) { state.mode = value; },
    get delayMs() { return state.delayMs; },
    set delayMs(value) { state.delayMs = value; },
    requests,
    issued,
    close,
  };
}

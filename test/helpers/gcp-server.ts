// A loopback GCE metadata server and Google STS, speaking their wire formats: the metadata token
// endpoint refuses requests without `Metadata-Flavor: Google` (and with X-Forwarded-For) as the real
// one does; STS takes the RFC 8693 JSON body auth-provider-gcp sends and checks every field. Each
// endpoint can be told to fail (503), refuse (403/400), hang, or answer malformed or incomplete.
import http from "node:http";
import { after } from "node:test";
import { answerFailure, listenOnLoopback, type Mode } from "./failure-mode.js";

export type { Mode } from "./failure-mode.js";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface GcpServer {
  /** Base URL of the metadata server: http://127.0.0.1:PORT/computeMetadata/v1 */
  metadataUrl: string;
  /** The STS token endpoint: http://127.0.0.1:PORT/v1/token */
  stsUrl: string;
  requests: RecordedRequest[];
  modes: { metadata: Mode; sts: Mode };
  /** expires_in of the tokens handed out. */
  expiresIn: number;
  /** Service accounts attached to the "instance", besides default. */
  serviceAccounts: Set<string>;
  /** What STS accepts. */
  sts: { audience: string; subjectTokens: Set<string> };
  /** Every access token handed out, by where it came from. */
  issued: { metadata: string[]; sts: string[] };
  close(): Promise<void>;
}

const STS_FIELDS = {
  grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
  requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
  subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
  scope: "https://www.googleapis.com/auth/cloud-platform",
};

/** Starts the server on 127.0.0.1 without test hooks (for scripts); close it yourself. */
export async function createGcpServer(): Promise<GcpServer> {
  const hanging = new Set<http.ServerResponse>();
  let counter = 0;
  const state: Omit<GcpServer, "metadataUrl" | "stsUrl" | "close"> = {
    requests: [],
    modes: { metadata: "ok", sts: "ok" },
    expiresIn: 3599,
    serviceAccounts: new Set(),
    sts: { audience: "", subjectTokens: new Set() },
    issued: { metadata: [], sts: [] },
  };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
  const failed = (mode: Mode, res: http.ServerResponse): boolean => answerFailure(mode, res, hanging);
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => { body += chunk; });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      state.requests.push({ method: req.method ?? "", path: url.pathname + url.search, headers: req.headers, body });
      const token = url.pathname.match(/^\/computeMetadata\/v1\/instance\/service-accounts\/([^/]+)\/token$/);
      if (token && req.method === "GET") {
        if (failed(state.modes.metadata, res)) return;
        const flavor = { "metadata-flavor": "Google" };
        if (req.headers["metadata-flavor"] !== "Google" || req.headers["x-forwarded-for"] !== undefined || state.modes.metadata === "refuse") {
          res.writeHead(403, { "content-type": "text/html", ...flavor }).end("Your client does not have permission to get URL from this server. Missing Metadata-Flavor:Google header.");
          return;
        }
        const account = decodeURIComponent(token[1]!);
        if (account !== "default" && !state.serviceAccounts.has(account)) {
          res.writeHead(404, { "content-type": "text/html", ...flavor }).end("Not Found");
          return;
        }
        if (state.modes.metadata === "incomplete") return json(res, 200, { token_type: "Bearer", expires_in: state.expiresIn }, flavor);
        const accessToken = `ya29.metadata-${account}-${++counter}-${Math.random().toString(36).slice(2)}`;
        state.issued.metadata.push(accessToken);
        return json(res, 200, { access_token: accessToken, expires_in: state.expiresIn, token_type: "Bearer" }, flavor);
      }
      if (url.pathname === "/v1/token" && req.method === "POST") {
        if (failed(state.modes.sts, res)) return;
        if (!String(req.headers["content-type"]).startsWith("application/json")) return json(res, 400, { error: "invalid_request", error_description: "expected a JSON body" });
        let fields: Record<string, unknown>;
        try {
          fields = JSON.parse(body);
        } catch {
          return json(res, 400, { error: "invalid_request", error_description: "malformed JSON" });
        }
        for (const [field, expected] of Object.entries(STS_FIELDS)) {
          if (fields[field] !== expected) return json(res, 400, { error: "invalid_request", error_description: `${field} must be ${expected}` });
        }
        if (fields.audience !== state.sts.audience) return json(res, 400, { error: "invalid_target", error_description: "The target service indicated by the \"audience\" parameters is invalid." });
        if (state.modes.sts === "refuse" || typeof fields.subject_token !== "string" || !state.sts.subjectTokens.has(fields.subject_token)) {
          return json(res, 400, { error: "invalid_grant", error_description: "The subject token is invalid." });
        }
        if (state.modes.sts === "incomplete") return json(res, 200, { token_type: "Bearer", expires_in: state.expiresIn });
        const accessToken = `ya29.federated-${++counter}-${Math.random().toString(36).slice(2)}`;
        state.issued.sts.push(accessToken);
        return json(res, 200, { access_token: accessToken, issued_token_type: STS_FIELDS.requested_token_type, token_type: "Bearer", expires_in: state.expiresIn });
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    });
  });
  const { base, close } = await listenOnLoopback(server, hanging);
  return Object.assign(state, { metadataUrl: `${base}/computeMetadata/v1`, stsUrl: `${base}/v1/token`, close });
}

/** Starts the server; it is closed when the test file finishes. */
export async function startGcpServer(): Promise<GcpServer> {
  const server = await createGcpServer();
  after(() => server.close());
  return server;
}

// A loopback Azure: IMDS (managed identity tokens, `Metadata: true` required), the Entra token
// endpoint (client credentials with a secret or a client assertion, form-encoded), and an ACR login
// server (GET /v2/ answers 401 with a Bearer challenge; POST /oauth2/exchange swaps an Entra token
// this server issued for a refresh token whose JWT exp is `refreshLifetimeSeconds` away). Registries
// are addressed by path: http://127.0.0.1:PORT/<login server>/v2/, so a test's registryEndpoint is
// `http://127.0.0.1:PORT/{registry}`. Each endpoint can fail (503), refuse, hang, or answer
// malformed or incomplete.
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

/** An Entra token this server issued, and for whom. */
export interface IssuedAadToken {
  token: string;
  via: "imds" | "secret" | "assertion";
  clientId: string;
  tenant: string;
}

export interface AzureServer {
  /** http://127.0.0.1:PORT */
  base: string;
  imdsUrl: string;
  authorityHost: string;
  /** For registryEndpoint: http://127.0.0.1:PORT/{registry} */
  registryEndpoint: string;
  requests: RecordedRequest[];
  modes: { imds: Mode; aad: Mode; challenge: Mode; exchange: Mode };
  /** The tenant of the managed identity and of the accepted clients. */
  tenant: string;
  /** User-assigned identities' client ids IMDS knows, besides the system-assigned one. */
  userAssignedClientIds: Set<string>;
  /** Service principals: client id -> secret. */
  secrets: Map<string, string>;
  /** Workload identities: client id -> the service-account token accepted as its assertion. */
  assertions: Map<string, string>;
  refreshLifetimeSeconds: number;
  /** Overrides the challenge's realm, to test realm checks. */
  realmOverride: string | undefined;
  issued: { aad: IssuedAadToken[]; refresh: string[] };
  close(): Promise<void>;
}

const SCOPE = "https://containerregistry.azure.net/.default";
const RESOURCE = "https://containerregistry.azure.net";

/** A compact JWT with these claims (signature not meant to verify). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT" })}.${part(claims)}.${Buffer.from(`sig-${Math.random()}`).toString("base64url")}`;
}

/** Starts the server on 127.0.0.1 without test hooks (for scripts); close it yourself. */
export async function createAzureServer(): Promise<AzureServer> {
  const hanging = new Set<http.ServerResponse>();
  let base = "";
  const state = {
    requests: [] as RecordedRequest[],
    modes: { imds: "ok", aad: "ok", challenge: "ok", exchange: "ok" } as AzureServer["modes"],
    tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47",
    userAssignedClientIds: new Set<string>(),
    secrets: new Map<string, string>(),
    assertions: new Map<string, string>(),
    refreshLifetimeSeconds: 3 * 3600,
    realmOverride: undefined as string | undefined,
    issued: { aad: [] as IssuedAadToken[], refresh: [] as string[] },
  };
  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers }).end(JSON.stringify(body));
  const failed = (mode: Mode, res: http.ServerResponse): boolean => answerFailure(mode, res, hanging);
  const issueAad = (via: IssuedAadToken["via"], clientId: string, tenant: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const token = fakeJwt({ aud: RESOURCE, iss: `https://sts.windows.net/${tenant}/`, tid: tenant, appid: clientId, iat: now, exp: now + 3600, n: state.issued.aad.length });
    state.issued.aad.push({ token, via, clientId, tenant });
    return token;
  };

  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => { body += chunk; });
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      state.requests.push({ method: req.method ?? "", path: url.pathname + url.search, headers: req.headers, body });
      const form = new URLSearchParams(body);
      const isForm = String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded");

      // IMDS: GET /metadata/identity/oauth2/token?api-version=...&resource=...[&client_id=|&msi_res_id=]
      if (url.pathname === "/metadata/identity/oauth2/token" && req.method === "GET") {
        if (failed(state.modes.imds, res)) return;
        if (req.headers.metadata !== "true") return json(res, 400, { error: "invalid_request", error_description: "Required metadata header not specified" });
        if (url.searchParams.get("api-version") !== "2018-02-01") return json(res, 400, { error: "invalid_request", error_description: "Invalid API version" });
        if (url.searchParams.get("resource") !== RESOURCE) return json(res, 400, { error: "invalid_resource", error_description: "AADSTS500011: The resource principal was not found" });
        const clientId = url.searchParams.get("client_id") ?? url.searchParams.get("msi_res_id") ?? "system-assigned";
        const known = clientId === "system-assigned" || state.userAssignedClientIds.has(clientId);
        if (!known || state.modes.imds === "refuse") return json(res, 400, { error: "invalid_request", error_description: "Identity not found" });
        if (state.modes.imds === "incomplete") return json(res, 200, { token_type: "Bearer", expires_in: "86399" });
        const token = issueAad("imds", clientId, state.tenant);
        const now = Math.floor(Date.now() / 1000);
        return json(res, 200, { access_token: token, client_id: clientId, expires_in: "86399", expires_on: String(now + 86399), ext_expires_in: "86399", not_before: String(now), resource: RESOURCE, token_type: "Bearer" });
      }

      // Entra: POST /{tenant}/oauth2/v2.0/token, client credentials.
      const entra = url.pathname.match(/^\/([^/]+)\/oauth2\/v2\.0\/token$/);
      if (entra && req.method === "POST") {
        if (failed(state.modes.aad, res)) return;
        const tenant = decodeURIComponent(entra[1]!);
        if (!isForm) return json(res, 400, { error: "invalid_request", error_description: "AADSTS900144: The request body must contain the following parameter: 'grant_type'." });
        if (form.get("grant_type") !== "client_credentials") return json(res, 400, { error: "unsupported_grant_type", error_description: "AADSTS70003" });
        if (form.get("scope") !== SCOPE) return json(res, 400, { error: "invalid_scope", error_description: "AADSTS70011: The provided value for the input parameter 'scope' is not valid." });
        if (tenant !== state.tenant) return json(res, 400, { error: "invalid_request", error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
        const clientId = form.get("client_id") ?? "";
        if (state.modes.aad === "refuse") return json(res, 401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." });
        let via: IssuedAadToken["via"];
        if (form.has("client_assertion")) {
          if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") return json(res, 400, { error: "invalid_request", error_description: "AADSTS50027: client_assertion_type" });
          if (!state.assertions.has(clientId) || state.assertions.get(clientId) !== form.get("client_assertion")) {
            return json(res, 400, { error: "invalid_client", error_description: "AADSTS700213: No matching federated identity record found for presented assertion subject." });
          }
          via = "assertion";
        } else {
          if (!state.secrets.has(clientId) || state.secrets.get(clientId) !== form.get("client_secret")) return json(res, 401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." });
          via = "secret";
        }
        if (state.modes.aad === "incomplete") return json(res, 200, { token_type: "Bearer", expires_in: 3599 });
        return json(res, 200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: issueAad(via, clientId, tenant) });
      }

      // ACR: GET /<login server>/v2/ -> 401 with the challenge.
      const v2 = url.pathname.match(/^\/([^/]+)\/v2\/$/);
      if (v2 && req.method === "GET") {
        if (failed(state.modes.challenge, res)) return;
        const loginServer = decodeURIComponent(v2[1]!);
        if (state.modes.challenge === "refuse") return json(res, 404, { errors: [{ code: "NOT_FOUND", message: "registry not found" }] });
        if (state.modes.challenge === "incomplete") {
          res.writeHead(401, { "content-type": "application/json", "www-authenticate": `Bearer service="${loginServer}"` }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED" }] }));
          return;
        }
        const realm = state.realmOverride ?? `${base}/oauth2/token`;
        res.writeHead(401, {
          "content-type": "application/json; charset=utf-8",
          "docker-distribution-api-version": "registry/2.0",
          "www-authenticate": `Bearer realm="${realm}",service="${loginServer}"`,
        }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required, visit https://aka.ms/acr/authorization for more information.", detail: null }] }));
        return;
      }

      // ACR: POST /oauth2/exchange, form-encoded.
      if (url.pathname === "/oauth2/exchange" && req.method === "POST") {
        if (failed(state.modes.exchange, res)) return;
        if (!isForm) return json(res, 400, { errors: [{ code: "BAD_REQUEST", message: "expected a form" }] });
        const issued = state.issued.aad.find((t) => t.token === form.get("access_token"));
        const valid = form.get("grant_type") === "access_token_refresh_token" && issued !== undefined && form.get("refresh_token") === form.get("access_token")
          && (form.get("service") ?? "") !== "" && (!form.has("tenant") || form.get("tenant") === issued.tenant);
        if (!valid || state.modes.exchange === "refuse") return json(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "unauthorized: the access token is not valid for this registry" }] });
        if (state.modes.exchange === "incomplete") return json(res, 200, { access_token: "" });
        const now = Math.floor(Date.now() / 1000);
        const refresh = fakeJwt({ jti: `r-${state.issued.refresh.length}`, sub: issued.clientId, nbf: now, exp: now + state.refreshLifetimeSeconds, iat: now, iss: "Azure Container Registry", aud: form.get("service"), version: "1.0", grant_type: "refresh_token", tenant: issued.tenant });
        state.issued.refresh.push(refresh);
        return json(res, 200, { refresh_token: refresh }, { "x-ms-correlation-request-id": "00000000-1111-2222-3333-444444444444" });
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    });
  });
  const listening = await listenOnLoopback(server, hanging);
  base = listening.base;
  const { close } = listening;
  return Object.assign(state, {
    base,
    imdsUrl: `${base}/metadata/identity/oauth2/token`,
    authorityHost: base,
    registryEndpoint: `${base}/{registry}`,
    close,
  });
}

/** Starts the server; it is closed when the test file finishes. */
export async function startAzureServer(): Promise<AzureServer> {
  const server = await createAzureServer();
  after(() => server.close());
  return server;
}

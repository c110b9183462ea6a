// The HTTP client every provider that talks to a metadata server, token endpoint or registry uses:
// node:http/https (loaded on first use: they cost a cache hit several milliseconds, and global fetch
// costs more), the request's abort signal, a cap on the answer's size, the proxy settings of the
// environment, an optional CA bundle, and errors that name the endpoint and never quote a secret.
import fs from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { ProviderError } from "../provider.js";
import type { SecretSet } from "../secrets.js";

export const DEFAULT_MAX_BYTES = 1 << 20;

export interface HttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal: AbortSignal;
  /** What the endpoint is, for messages: "token endpoint https://auth.example.com/token". */
  what: string;
  /** The answer is refused beyond this many bytes (default 1 MiB). */
  maxBytes?: number;
  /** PEM file of CA certificates to trust (for https), instead of the system's. */
  caFile?: string;
  /** The environment to take HTTPS_PROXY, HTTP_PROXY and NO_PROXY from. */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * The run's secrets: an error answer's words are masked with them before they are bounded (a
   * secret cut in two is no longer found by the mask of the printed line), and the proxy's
   * credentials join them.
   */
  secrets?: SecretSet;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends one request; resolves with any HTTP status, rejects (ProviderError) on transport failure. */
export function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(request.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Promise.reject(new ProviderError(`${request.what}: unsupported URL scheme ${url.protocol}`));
  }
  const proxy = proxyFor(url, request.env ?? {});
  if (proxy?.username) request.secrets?.addCredential(decodeURIComponent(proxy.username), decodeURIComponent(proxy.password));
  return new Promise<HttpResponse>((resolve, reject) => {
    if (request.signal.aborted) return reject(deadlineError(request));
    let ca: Buffer | undefined;
    if (request.caFile) {
      try {
        ca = fs.readFileSync(request.caFile);
      } catch (error) {
        return reject(new ProviderError(`${request.what}: cannot read the CA bundle ${request.caFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`));
      }
    }
    const body = request.body === undefined ? undefined : Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body);
    const headers: Record<string, string> = { ...request.headers };
    if (body) headers["content-length"] = String(body.length);
    const onResponse = (res: import("node:http").IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const limit = request.maxBytes ?? DEFAULT_MAX_BYTES;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) {
          res.destroy();
          reject(new ProviderError(`${request.what}: the answer is larger than ${limit} bytes; refused`));
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (error) => reject(transportError(request, error)));
    };
    const options = { method: request.method ?? "GET", headers, signal: request.signal, ...(ca ? { ca } : {}) };
    let req: import("node:http").ClientRequest;
    if (proxy && url.protocol === "http:") {
      // A plain-http target goes through the proxy in absolute form.
      const http = require("node:http") as typeof import("node:http");
      req = http.request(proxy, { ...options, path: url.href, headers: { ...headers, host: url.host, ...proxyAuthorization(proxy) } }, onResponse);
    } else if (proxy) {
      const https = require("node:https") as typeof import("node:https");
      req = https.request(url, { ...options, agent: tunnelAgent(proxy, https) }, onResponse);
    } else {
      const client = (url.protocol === "https:" ? require("node:https") : require("node:http")) as typeof import("node:https");
      req = client.request(url, options, onResponse);
    }
    req.on("error", (error) => reject(request.signal.aborted ? deadlineError(request) : transportError(request, error)));
    req.end(body);
  });
}

/** Sends a request and parses a JSON answer of a 2xx status; other answers become a ProviderError. */
export async function httpJson<T = unknown>(request: HttpRequest): Promise<{ status: number; headers: IncomingHttpHeaders; json: T }> {
  const response = await httpRequest({ ...request, headers: { accept: "application/json", ...request.headers } });
  let json: unknown;
  try {
    json = JSON.parse(response.body);
  } catch {
    const type = String(response.headers["content-type"] ?? "no content type").split(";")[0];
    throw new HttpStatusError(request, response, `answered HTTP ${response.status} with something other than JSON (${type})`);
  }
  if (response.status < 200 || response.status > 299) throw new HttpStatusError(request, response, `answered HTTP ${response.status}`, json);
  return { status: response.status, headers: response.headers, json: json as T };
}

/** An endpoint's non-2xx (or non-JSON) answer; `retryable` for throttling and server errors. */
export class HttpStatusError extends ProviderError {
  readonly status: number;
  readonly retryable: boolean;
  readonly json: unknown;
  readonly retryAfterMs: number | undefined;

  constructor(request: HttpRequest, response: HttpResponse, reason: string, json?: unknown) {
    super(`${request.what} ${reason}${describeOAuthError(json, request.secrets)}`);
    this.name = "HttpStatusError";
    this.status = response.status;
    this.retryable = response.status === 429 || response.status >= 500;
    this.json = json;
    const retryAfter = Number(response.headers["retry-after"]);
    this.retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : undefined;
  }
}

/** The `error` / `error_description` of an OAuth-style error answer, verbatim but masked and bounded. */
function describeOAuthError(json: unknown, secrets: SecretSet | undefined): string {
  if (typeof json !== "object" || json === null) return "";
  const { error, error_description: description, message } = json as Record<string, unknown>;
  const parts = [error, description ?? message].filter((part): part is string => typeof part === "string" && part !== "");
  if (parts.length === 0) return "";
  const words = parts.join(": ");
  return `: ${secrets ? secrets.maskAndBound(words, 300) : words.length > 300 ? `${words.slice(0, 300)}...` : words}`;
}

export interface RetryPolicy {
  signal: AbortSignal;
  /** Attempts in all, the first included (default 3). */
  attempts?: number;
  /** The first backoff; each next one doubles, with full jitter (default 200 ms). */
  baseDelayMs?: number;
}

/** Runs `attempt` again on throttling, server errors and transport failures, with jittered backoff, never past the deadline. */
export async function withRetries<T>(attempt: () => Promise<T>, policy: RetryPolicy): Promise<T> {
  const attempts = policy.attempts ?? 3;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (error) {
      const retryable = error instanceof HttpStatusError ? error.retryable : error instanceof ProviderError && (error as { transport?: boolean }).transport === true;
      if (!retryable || n >= attempts || policy.signal.aborted) throw error;
      const backoff = Math.random() * (policy.baseDelayMs ?? 200) * 2 ** (n - 1);
      const delay = error instanceof HttpStatusError && error.retryAfterMs !== undefined ? Math.min(error.retryAfterMs, 5000) : backoff;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        policy.signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
      });
      if (policy.signal.aborted) throw error;
    }
  }
}

function deadlineError(request: HttpRequest): ProviderError {
  return new ProviderError(`${request.what}: no answer before the deadline`, "check that the endpoint is reachable from the node");
}

function transportError(request: HttpRequest, error: Error): ProviderError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason = code === "ECONNREFUSED" ? "connection refused"
    : code === "ECONNRESET" ? "connection reset"
      : code === "ENOTFOUND" || code === "EAI_AGAIN" ? `cannot resolve ${new URL(request.url).hostname}`
        : code === "ETIMEDOUT" ? "connection timed out"
          : code ?? error.message;
  const failure = new ProviderError(`${request.what}: ${reason}`, "check that the endpoint is reachable from the node");
  (failure as { transport?: boolean }).transport = true;
  return failure;
}

/** The proxy for url from HTTPS_PROXY/HTTP_PROXY, unless NO_PROXY exempts the host (curl's rules). */
export function proxyFor(url: URL, env: Readonly<Record<string, string | undefined>>): URL | undefined {
  const raw = url.protocol === "https:" ? env.HTTPS_PROXY ?? env.https_proxy : env.HTTP_PROXY ?? env.http_proxy;
  if (!raw) return undefined;
  const noProxy = (env.NO_PROXY ?? env.no_proxy ?? "").split(",").map((entry) => entry.trim().toLowerCase()).filter(Boolean);
  const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, "");
  for (const entry of noProxy) {
    if (entry === "*") return undefined;
    const [name, port] = entry.replace(/^\*?\./, ".").split(":");
    if (port && port !== (url.port || (url.protocol === "https:" ? "443" : "80"))) continue;
    if (host === name!.replace(/^\./, "") || (name!.startsWith(".") ? host.endsWith(name!) : host.endsWith(`.${name}`))) return undefined;
  }
  try {
    return new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch {
    return undefined;
  }
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "proxy-authorization": `Basic ${Buffer.from(credentials).toString("base64")}` };
}

/** An agent that opens each connection as a CONNECT tunnel through the proxy, then TLS inside it. */
function tunnelAgent(proxy: URL, https: typeof import("node:https")): import("node:https").Agent {
  const http = require("node:http") as typeof import("node:http");
  const tls = require("node:tls") as typeof import("node:tls");
  const agent = new https.Agent({ keepAlive: false });
  (agent as unknown as { createConnection: unknown }).createConnection = (options: import("node:tls").ConnectionOptions & { host: string; port: number }, callback: (error: Error | null, socket?: import("node:net").Socket) => void) => {
    const connect = http.request({ host: proxy.hostname, port: Number(proxy.port || 80), method: "CONNECT", path: `${options.host}:${options.port}`, headers: { host: `${options.host}:${options.port}`, ...proxyAuthorization(proxy) } });
    connect.on("connect", (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        callback(new Error(`proxy ${proxy.host} refused the tunnel: HTTP ${res.statusCode}`));
        return;
      }
      callback(null, tls.connect({ ...options, socket, servername: options.servername ?? options.host }));
    });
    connect.on("error", (error) => callback(error));
    connect.end();
  };
  return agent;
}

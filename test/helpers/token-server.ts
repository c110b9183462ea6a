// A loopback token endpoint for the http-token provider module: it counts calls per registry,
// hands out a distinct password each time, and can be told to refuse, hang or slow down.
import http from "node:http";
import { after } from "node:test";
import { listenOnLoopback } from "./failure-mode.js";

export type TokenServerMode = "ok" | "fail" | "hang";

export interface TokenServer {
  url: string;
  calls(registry?: string): number;
  /** Every password handed out, per registry. */
  issued(registry: string): ReadonlySet<string>;
  mode: TokenServerMode;
  delayMs: number;
  expiresIn: number;
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1; it is closed when the test file finishes. */
export async function startTokenServer(): Promise<TokenServer> {
  const counts = new Map<string, number>();
  const issuedByRegistry = new Map<string, Set<string>>();
  const hanging = new Set<http.ServerResponse>();
  const state = { mode: "ok" as TokenServerMode, delayMs: 0, expiresIn: 3600 };
  const server = http.createServer((req, res) => {
    const registry = new URL(req.url ?? "/", "http://x").searchParams.get("registry") ?? "";
    counts.set(registry, (counts.get(registry) ?? 0) + 1);
    if (state.mode === "hang") {
      hanging.add(res);
      return;
    }
    setTimeout(() => {
      if (state.mode === "fail") {
        res.writeHead(503, { "content-type": "text/plain" }).end("upstream unavailable");
        return;
      }
      const password = `pw-${registry}-${counts.get(registry)}-${Math.random().toString(36).slice(2, 10)}`;
      if (!issuedByRegistry.has(registry)) issuedByRegistry.set(registry, new Set());
      issuedByRegistry.get(registry)!.add(password);
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ username: "token-user", password, expires_in: state.expiresIn }));
    }, state.delayMs);
  });
  const { base, close } = await listenOnLoopback(server, hanging);
  after(close);
  return {
    url: `${base}/token`,
    calls: (registry) => registry === undefined ? [...counts.values()].reduce((a, b) => a + b, 0) : counts.get(registry) ?? 0,
    issued: (registry) => issuedByRegistry.get(registry) ?? new Set(),
    get mode() { return state.mode; },
    set mode(value) { state.mode = value; },
    get delayMs() { return state.delayMs; },
    set delayMs(value) { state.delayMs = value; },
    get expiresIn() { return state.expiresIn; },
    set expiresIn(value) { state.expiresIn = value; },
    close,
  };
}

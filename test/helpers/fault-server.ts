// A loopback upstream that misbehaves on purpose: each route answers with one fault (or a sequence,
// one per attempt), and the server records every request and how many body bytes it managed to
// send. Over http, or https with a certificate the test made. Closed when the test file finishes,
// with every socket destroyed and every timer cleared.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { after } from "node:test";

export type Fault =
  /** A JSON answer (default status 200). */
  | { kind: "json"; body: unknown; status?: number; headers?: Record<string, string> }
  /** A status with a text body, e.g. 429 or 503, optionally with Retry-After. */
  | { kind: "status"; status: number; body?: string; contentType?: string; retryAfter?: string }
  /** 200 with an HTML page: a captive portal, a proxy's error page. */
  | { kind: "non-json" }
  /** The connection is reset (RST) as soon as the request arrives. */
  | { kind: "reset" }
  /** Headers and half a JSON body, then a reset. */
  | { kind: "reset-mid-body" }
  /** The connection is accepted and never answered. */
  | { kind: "hang" }
  /** Headers at once, then one byte of body every intervalMs (default 1 s), forever. */
  | { kind: "drip"; intervalMs?: number }
  /** 200 application/json, then `bytes` of body as fast as the client takes it (a gigabyte, say). */
  | { kind: "huge"; bytes: number }
  /** Fault i for attempt i; the last one for every attempt after. */
  | { kind: "sequence"; faults: Fault[] };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

export interface FaultServer {
  /** http://127.0.0.1:port or https://127.0.0.1:port */
  origin: string;
  /** Routes path (with its subpaths and any query) to fault; returns the route's URL. */
  route(path: string, fault: Fault): string;
  /** Requests received on a route, in order. */
  requests(path: string): RecordedRequest[];
  /** Body bytes written to the client on a route, over all its requests. */
  bytesSent(path: string): number;
  close(): Promise<void>;
}

export interface FaultServerOptions {
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** Starts a fault server on 127.0.0.1; it is closed when the test file finishes. */
export async function startFaultServer(options: FaultServerOptions = {}): Promise<FaultServer> {
  const routes = new Map<string, Fault>();
  const received = new Map<string, RecordedRequest[]>();
  const sent = new Map<string, number>();
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const routeOf = (url: string): string | undefined => {
    const pathname = new URL(url, "http://x").pathname;
    let best: string | undefined;
    for (const path of routes.keys()) {
      if ((pathname === path || pathname.startsWith(`${path}/`)) && (best === undefined || path.length > best.length)) best = path;
    }
    return best;
  };
  const count = (path: string, bytes: number) => sent.set(path, (sent.get(path) ?? 0) + bytes);

  const serve = (fault: Fault, path: string, attempt: number, req: http.IncomingMessage, res: http.ServerResponse): void => {
    switch (fault.kind) {
      case "sequence":
        return serve(fault.faults[Math.min(attempt, fault.faults.length - 1)]!, path, attempt, req, res);
      case "json": {
        const body = JSON.stringify(fault.body);
        count(path, Buffer.byteLength(body));
        res.writeHead(fault.status ?? 200, { "content-type": "application/json", ...fault.headers }).end(body);
        return;
      }
      case "status": {
        const body = fault.body ?? `status ${fault.status}`;
        count(path, Buffer.byteLength(body));
        res.writeHead(fault.status, { "content-type": fault.contentType ?? "text/plain", ...(fault.retryAfter ? { "retry-after": fault.retryAfter } : {}) }).end(body);
        return;
      }
      case "non-json": {
        const body = "<html><body>Please log in to the network</body></html>";
        count(path, body.length);
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(body);
        return;
      }
      case "reset":
        req.socket.resetAndDestroy();
        return;
      case "reset-mid-body":
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"username":"u","pass');
        count(path, 21);
        // Let the headers and the half body leave before the reset.
        timers.add(setTimeout(() => req.socket.resetAndDestroy(), 20));
        return;
      case "hang":
        return;
      case "drip": {
        res.writeHead(200, { "content-type": "application/json" });
        res.flushHeaders();
        const timer = setInterval(() => {
          if (res.destroyed) return clearInterval(timer);
          res.write(" ");
          count(path, 1);
        }, fault.intervalMs ?? 1000);
        timers.add(timer);
        res.on("close", () => clearInterval(timer));
        return;
      }
      case "huge": {
        res.writeHead(200, { "content-type": "application/json" });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        chunk[0] = 0x5b; // "[": the start of a JSON document that never ends in time
        let left = fault.bytes;
        const pump = () => {
          while (left > 0 && !res.destroyed) {
            const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
            left -= piece.length;
            count(path, piece.length);
            if (!res.write(piece)) return void res.once("drain", pump);
          }
          if (left <= 0 && !res.destroyed) res.end();
        };
        res.on("close", () => { left = 0; });
        pump();
        return;
      }
    }
  };

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => { body += chunk.length + body.length > 1 << 20 ? "" : chunk; });
    req.on("end", () => {
      const path = routeOf(req.url ?? "/");
      if (path === undefined) {
        res.writeHead(404, { "content-type": "text/plain" }).end("no such route");
        return;
      }
      const list = received.get(path) ?? [];
      list.push({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body, at: Date.now() });
      received.set(path, list);
      serve(routes.get(path)!, path, list.length - 1, req, res);
    });
  };

  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  server.on("connection", (socket: net.Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // https: the raw TCP socket arrives on "connection" as well, so the set above covers both.
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `${options.tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= new Promise<void>((resolve) => {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
    return closed;
  };
  after(close);
  return {
    origin,
    route(path, fault) {
      routes.set(path, fault);
      return `${origin}${path}`;
    },
    requests: (path) => received.get(path) ?? [],
    bytesSent: (path) => sent.get(path) ?? 0,
    close,
  };
}

/** A loopback URL where nothing listens: a port that was just bound and released, so connecting is refused. */
export async function refusedUrl(path = "/token"): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}

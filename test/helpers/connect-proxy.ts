// A loopback HTTP proxy for tests of clients that honour HTTPS_PROXY / HTTP_PROXY. Every CONNECT
// tunnel, whatever host it names, is handed to one local TLS server (which holds a certificate for
// that host from test-ca.ts), so a client that would call a cloud API talks to a loopback server
// instead and nothing leaves the machine; plain-HTTP requests in absolute form go to one local
// request handler. The proxy records what it was asked for.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type tls from "node:tls";
import { after } from "node:test";

/** The running proxy. */
export interface ConnectProxy {
  /** http://127.0.0.1:PORT, for HTTPS_PROXY / HTTP_PROXY. */
  url: string;
  /** "host:port" of every CONNECT, and the absolute URL of every plain request, in order. */
  readonly seen: string[];
  close(): Promise<void>;
}

/** Where the proxy sends what it is asked for. */
export interface ConnectProxyTargets {
  /** Receives every CONNECT tunnel, as if the client had connected to it directly. */
  tunnelTo?: tls.Server;
  /** Answers plain-HTTP requests sent to the proxy in absolute form. */
  forward?: http.RequestListener;
}

/** Starts the proxy on 127.0.0.1; it is closed when the test file finishes. */
export async function startConnectProxy(targets: ConnectProxyTargets): Promise<ConnectProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    if (targets.forward) targets.forward(req, res);
    else res.writeHead(502).end("no plain-HTTP target in this test");
  });
  server.on("connect", (req: http.IncomingMessage, socket: Socket) => {
    seen.push(req.url ?? "");
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    if (!targets.tunnelTo) {
      socket.end("HTTP/1.1 502 Bad Gateway\r\n\r\n");
      return;
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    targets.tunnelTo.emit("connection", socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const close = () => new Promise<void>((resolve) => {
    for (const socket of sockets) socket.destroy();
    server.closeAllConnections();
    server.close(() => resolve());
  });
  after(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close };
}

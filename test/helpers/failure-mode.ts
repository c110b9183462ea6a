// The failure modes the cloud test servers (gcp-, azure- and alibaba-server.ts) put an endpoint in,
// and how an endpoint answers in each: one place, so that every provider meets the same faults; and
// listenOnLoopback, how every test server (AWS, OAuth, token, GCP, Azure, Alibaba) listens and closes.
import type http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export type Mode = "ok" | "fail" | "refuse" | "hang" | "malformed" | "incomplete";

/**
 * Answers `res` as `mode` says when it is "hang" (left open, in `hanging`, for the server to destroy
 * on close), "fail" (a 503, or `fail` for a service with an error body of its own) or "malformed"
 * (an HTML page where JSON belongs); true when it did. The other modes are the endpoint's to answer.
 */
export function answerFailure(mode: Mode, res: http.ServerResponse, hanging: Set<http.ServerResponse>, fail?: () => void): boolean {
  if (mode === "hang") {
    hanging.add(res);
    return true;
  }
  if (mode === "fail") {
    if (fail) fail();
    else res.writeHead(503, { "content-type": "text/plain" }).end("service unavailable");
    return true;
  }
  if (mode === "malformed") {
    res.writeHead(200, { "content-type": "text/html" }).end("<html><body>gateway error</body></html>");
    return true;
  }
  return false;
}

/**
 * Listens on a free 127.0.0.1 port; resolves with the server's base URL and a close() that ends
 * the responses left hanging and every open connection first, so that it never waits on a client.
 */
export async function listenOnLoopback(server: http.Server | https.Server, hanging: Set<http.ServerResponse>): Promise<{ base: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  let closed: Promise<void> | undefined;
  const close = () => closed ??= new Promise<void>((resolve) => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    server.close(() => resolve());
  });
  const scheme = server instanceof https.Server ? "https" : "http";
  return { base: `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`, close };
}

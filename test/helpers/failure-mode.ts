// The failure modes the cloud test servers (gcp-, azure- and alibaba-server.ts) put an endpoint in,
// and how an endpoint answers in each: one place, so that every provider meets the same faults.
import type http from "node:http";

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

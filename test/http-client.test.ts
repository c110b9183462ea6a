// The HTTP client every network provider uses (src/provider-kit/http-client.ts), against loopback servers that
// speak real HTTP: JSON answers, error answers with OAuth fields quoted verbatim, non-JSON answers,
// the size cap on a gigabyte body, the deadline, retries with backoff (and Retry-After) on 429 and
// 5xx but not on 4xx, and HTTPS_PROXY / HTTP_PROXY / NO_PROXY through a loopback proxy that tunnels
// CONNECT to a loopback https server with a certificate made here with openssl.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { after } from "node:test";
import { CredmuxError } from "../src/errors.js";
import { HttpStatusError, httpJson, proxyFor, withRetries, type HttpRequest } from "../src/provider-kit/http-client.js";
import { refusedUrl, startFaultServer, type FaultServer } from "./helpers/fault-server.js";
import { skipUnlessTools } from "./helpers/required-tools.js";
import { tempDir } from "./helpers/temp.js";

const GIB = 1 << 30;
const MIB = 1 << 20;

/** A request to url under a deadline of ms, naming the endpoint as providers do. */
function get(url: string, ms = 5000, extra: Partial<HttpRequest> = {}): HttpRequest {
  return { url, signal: AbortSignal.timeout(ms), what: `token endpoint ${url}`, env: {}, ...extra };
}

/** Awaits a rejection and returns the error, which must be a CredmuxError (ProviderError). */
async function failure(promise: Promise<unknown>): Promise<CredmuxError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof CredmuxError, `expected a ProviderError, got ${String(error)}`);
    assert.equal(error.kind, "provider");
    return error;
  }
  assert.fail("expected a rejection");
}


test("a JSON answer: status, headers and the parsed body", async () => {
  const server = await startFaultServer();
  const url = server.route("/ok", { kind: "json", body: { username: "u", password: "pw", expires_in: 60 }, headers: { "x-test": "1" } });
  const answer = await httpJson<{ password: string }>(get(url));
  assert.equal(answer.status, 200);
  assert.equal(answer.json.password, "pw");
  assert.equal(answer.headers["x-test"], "1");
  assert.equal(server.requests("/ok")[0]!.headers.accept, "application/json");
});

test("a non-2xx answer names the endpoint and quotes the OAuth error fields verbatim", async () => {
  const server = await startFaultServer();
  const cases: Array<[string, number, unknown, string, boolean]> = [
    ["/oauth-400", 400, { error: "invalid_grant", error_description: "The refresh token has expired: re-run az login" }, "answered HTTP 400: invalid_grant: The refresh token has expired: re-run az login", false],
    ["/oauth-401", 401, { error: "invalid_client" }, "answered HTTP 401: invalid_client", false],
    ["/message-403", 403, { message: "Permission 'artifactregistry.repositories.downloadArtifacts' denied" }, "answered HTTP 403: Permission 'artifactregistry.repositories.downloadArtifacts' denied", false],
    ["/plain-json-500", 500, { code: 13 }, "answered HTTP 500", true],
    ["/throttled-429", 429, { error: "slow_down" }, "answered HTTP 429: slow_down", true],
  ];
  for (const [route, status, body, reason, retryable] of cases) {
    const url = server.route(route, { kind: "json", status, body });
    const error = await failure(httpJson(get(url)));
    assert.ok(error instanceof HttpStatusError);
    assert.equal(error.message, `token endpoint ${url} ${reason}`);
    assert.equal(error.status, status);
    assert.equal(error.retryable, retryable, route);
    assert.deepEqual(error.json, body);
  }
});

test("a long OAuth error description is quoted up to 300 characters, marked where it was cut, on one line", async () => {
  const server = await startFaultServer();
  const url = server.route("/long-error", { kind: "json", status: 400, body: { error: "invalid_request", error_description: `${"x".repeat(500)}\nsecond line` } });
  const error = await failure(httpJson(get(url)));
  assert.equal(error.message, `token endpoint ${url} answered HTTP 400: invalid_request: ${"x".repeat(300 - "invalid_request: ".length)}...`);
  assert.ok(!error.toLine().includes("\n"));
});

test("an answer that is not JSON names its status and content type", async () => {
  const server = await startFaultServer();
  const html = server.route("/portal", { kind: "non-json" });
  assert.equal((await failure(httpJson(get(html)))).message, `token endpoint ${html} answered HTTP 200 with something other than JSON (text/html)`);
  const gateway = server.route("/gateway", { kind: "status", status: 502, body: "Bad Gateway" });
  const error = await failure(httpJson(get(gateway)));
  assert.equal(error.message, `token endpoint ${gateway} answered HTTP 502 with something other than JSON (text/plain)`);
  assert.ok(error instanceof HttpStatusError && error.retryable);
});

test("a gigabyte body is refused at the 1 MiB cap, early, without reading or keeping it", async () => {
  const server = await startFaultServer();
  const url = server.route("/gigabyte", { kind: "huge", bytes: GIB });
  const heapBefore = process.memoryUsage().heapUsed;
  const error = await failure(httpJson(get(url)));
  assert.equal(error.message, `token endpoint ${url}: the answer is larger than ${MIB} bytes; refused`);
  // The server stops once the client hangs up: what it wrote is the cap plus the sockets' buffers.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(server.bytesSent("/gigabyte") < 64 * MIB, `the server sent ${server.bytesSent("/gigabyte")} bytes`);
  assert.ok(process.memoryUsage().heapUsed - heapBefore < 32 * MIB, "the refused body was not kept");
});

test("maxBytes: exactly the cap is accepted, one byte more is refused", async () => {
  const server = await startFaultServer();
  const body = { password: "p".repeat(100) };
  const size = JSON.stringify(body).length;
  const url = server.route("/capped", { kind: "json", body });
  assert.equal((await httpJson(get(url, 5000, { maxBytes: size }))).status, 200);
  assert.match((await failure(httpJson(get(url, 5000, { maxBytes: size - 1 })))).message, new RegExp(`larger than ${size - 1} bytes; refused$`));
});

test("the deadline ends a hanging or dripping upstream with one message naming the endpoint", async () => {
  const server = await startFaultServer();
  for (const [route, fault] of [["/hang", { kind: "hang" }], ["/drip", { kind: "drip", intervalMs: 100 }]] as const) {
    const url = server.route(route, fault);
    const error = await failure(httpJson(get(url, 400)));
    assert.equal(server.requests(route).length, 1, `${route}: the upstream saw the request before the deadline`);
    assert.equal(error.message, `token endpoint ${url}: no answer before the deadline`, route);
    assert.equal(error.hint, "check that the endpoint is reachable from the node");
  }
});

test("an already-aborted signal fails at once, before any connection", async () => {
  const server = await startFaultServer();
  const url = server.route("/never", { kind: "json", body: {} });
  const controller = new AbortController();
  controller.abort();
  assert.match((await failure(httpJson({ ...get(url), signal: controller.signal }))).message, /no answer before the deadline$/);
  assert.equal(server.requests("/never").length, 0);
});

test("transport failures name the endpoint and what happened", async () => {
  const server = await startFaultServer();
  const refused = await refusedUrl();
  assert.equal((await failure(httpJson(get(refused)))).message, `token endpoint ${refused}: connection refused`);
  const reset = server.route("/reset", { kind: "reset" });
  assert.equal((await failure(httpJson(get(reset)))).message, `token endpoint ${reset}: connection reset`);
  const midBody = server.route("/reset-mid-body", { kind: "reset-mid-body" });
  assert.match((await failure(httpJson(get(midBody)))).message, new RegExp(`^token endpoint ${midBody.replace(/[.?]/g, "\\$&")}: (connection reset|aborted)$`));
  assert.equal((await failure(httpJson(get("ftp://127.0.0.1/x")))).message, "token endpoint ftp://127.0.0.1/x: unsupported URL scheme ftp:");
});

/** withRetries around httpJson with a short backoff; returns the outcome, the attempts the server saw and their times. */
async function retried(server: FaultServer, route: string, faults: Parameters<FaultServer["route"]>[1], ms = 5000, baseDelayMs = 100) {
  const url = server.route(route, faults);
  const signal = AbortSignal.timeout(ms);
  const started = Date.now();
  let error: unknown;
  let answer: unknown;
  try {
    answer = await withRetries(() => httpJson({ ...get(url), signal }), { signal, attempts: 3, baseDelayMs });
  } catch (caught) {
    error = caught;
  }
  const times = server.requests(route).map((request) => request.at - started);
  return { answer, error, attempts: times.length, times };
}

test("retries: 503 and 429 are retried with backoff until an answer, at most 3 attempts in all", async () => {
  const server = await startFaultServer();
  const ok = { kind: "json", body: { password: "pw" } } as const;
  const cases: Array<[string, Parameters<FaultServer["route"]>[1], number, boolean]> = [
    ["/retry-503-then-ok", { kind: "sequence", faults: [{ kind: "status", status: 503 }, { kind: "status", status: 503 }, ok] }, 3, true],
    ["/retry-429-then-ok", { kind: "sequence", faults: [{ kind: "json", status: 429, body: { error: "slow_down" } }, ok] }, 2, true],
    ["/retry-503-always", { kind: "status", status: 503 }, 3, false],
    ["/retry-reset-then-ok", { kind: "sequence", faults: [{ kind: "reset" }, ok] }, 2, true],
  ];
  for (const [route, faults, attempts, succeeds] of cases) {
    const outcome = await retried(server, route, faults);
    assert.equal(outcome.attempts, attempts, route);
    assert.equal(outcome.error === undefined, succeeds, `${route}: ${String(outcome.error)}`);
  }
  const exhausted = await retried(server, "/retry-503-exhausted", { kind: "status", status: 503, body: "try later" });
  assert.ok(exhausted.error instanceof HttpStatusError && exhausted.error.status === 503);
});

test("retries: 400, 401, 404, a non-JSON 200 and a refused size are not retried", async () => {
  const server = await startFaultServer();
  const cases: Array<[string, Parameters<FaultServer["route"]>[1]]> = [
    ["/no-retry-400", { kind: "json", status: 400, body: { error: "invalid_grant" } }],
    ["/no-retry-401", { kind: "status", status: 401 }],
    ["/no-retry-404", { kind: "status", status: 404 }],
    ["/no-retry-html", { kind: "non-json" }],
    ["/no-retry-huge", { kind: "huge", bytes: 4 * MIB }],
  ];
  for (const [route, fault] of cases) {
    const outcome = await retried(server, route, fault);
    assert.ok(outcome.error !== undefined, route);
    assert.equal(outcome.attempts, 1, `${route}: ${outcome.attempts} attempts`);
  }
});

test("Retry-After is honoured, and never waited on past the deadline", async () => {
  const server = await startFaultServer();
  const ok = { kind: "json", body: { password: "pw" } } as const;
  const oneSecond = await retried(server, "/retry-after-1", { kind: "sequence", faults: [{ kind: "status", status: 503, retryAfter: "1" }, ok] });
  assert.equal(oneSecond.attempts, 2);
  // A lower bound between two requests the server saw: load can only lengthen the wait.
  assert.ok(oneSecond.times[1]! - oneSecond.times[0]! >= 950, `the second attempt came ${oneSecond.times[1]! - oneSecond.times[0]!} ms after the first`);
  // A backoff of up to a minute would outlast the 5 s deadline: a second attempt, and an answer, means Retry-After: 0 was used.
  const zero = await retried(server, "/retry-after-0", { kind: "sequence", faults: [{ kind: "status", status: 429, retryAfter: "0" }, ok] }, 5000, 60_000);
  assert.equal(zero.attempts, 2, "Retry-After: 0 is used instead of the (long) backoff");
  assert.deepEqual((zero.answer as { json: unknown }).json, { password: "pw" });
  // Retry-After: 30 (waited on for at most 5 s) reaches past a 3 s deadline: the wait ends when the
  // deadline fires, in the same turn of the event loop, with the upstream's answer as the error.
  const signal = AbortSignal.timeout(3000);
  let settled = false;
  let settledWhenAborted: boolean | undefined;
  signal.addEventListener("abort", () => setImmediate(() => { settledWhenAborted = settled; }), { once: true });
  const beyondUrl = server.route("/retry-after-30", { kind: "status", status: 503, retryAfter: "30" });
  const beyond = await withRetries(() => httpJson({ ...get(beyondUrl), signal }), { signal, attempts: 3, baseDelayMs: 100 })
    .then(() => undefined, (caught: unknown) => caught).finally(() => { settled = true; });
  while (settledWhenAborted === undefined) await new Promise((resolve) => setImmediate(resolve));
  assert.equal(server.requests("/retry-after-30").length, 1);
  assert.equal(settledWhenAborted, true, "gave up when the deadline fired, not after the Retry-After wait");
  assert.ok(beyond instanceof HttpStatusError && beyond.status === 503, "the upstream's answer is the error");
});

// ---------------------------------------------------------------------------------------------
// Proxies

interface LoopbackProxy {
  url: string;
  connects: string[];
  forwarded: string[];
  authorizations: Array<string | undefined>;
  /** Answer CONNECT with this status instead of tunnelling. */
  refuseWith?: number;
}

/** A proxy on 127.0.0.1: CONNECT tunnels, and absolute-form requests forwarded; it records both. */
async function startProxy(): Promise<LoopbackProxy> {
  const state: Omit<LoopbackProxy, "url"> = { connects: [], forwarded: [], authorizations: [] };
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((req, res) => {
    state.forwarded.push(req.url ?? "");
    state.authorizations.push(req.headers["proxy-authorization"]);
    const target = new URL(req.url ?? "");
    const upstream = http.request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  proxy.on("connection", (socket: net.Socket) => { sockets.add(socket); socket.on("close", () => sockets.delete(socket)); });
  proxy.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    state.connects.push(req.url ?? "");
    state.authorizations.push(req.headers["proxy-authorization"]);
    if (state.refuseWith) {
      client.end(`HTTP/1.1 ${state.refuseWith} Refused\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    const [host, port] = (req.url ?? "").split(":");
    const upstream = net.connect(Number(port), host!, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  after(() => new Promise<void>((resolve) => { for (const socket of sockets) socket.destroy(); proxy.close(() => resolve()); }));
  return Object.assign(state, { url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
}

/** A self-signed certificate for 127.0.0.1, made with openssl; undefined if openssl is missing. */
function makeCertificate(dir: string): { key: string; cert: string; caFile: string } | undefined {
  const key = path.join(dir, "key.pem");
  const cert = path.join(dir, "cert.pem");
  try {
    execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
      "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "pipe", timeout: 20_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8"), caFile: cert };
}

test("HTTPS_PROXY: an https endpoint is reached through a CONNECT tunnel, trusting caFile", async (t) => {
  const skip = skipUnlessTools(["openssl"], "openssl");
  if (skip) return t.skip(skip);
  const certificate = makeCertificate(tempDir());
  assert.ok(certificate, "openssl made a certificate");
  const target = await startFaultServer({ tls: certificate });
  const url = target.route("/tls-token", { kind: "json", body: { password: "through-the-tunnel" } });
  const proxy = await startProxy();
  const answer = await httpJson<{ password: string }>(get(url, 5000, { env: { HTTPS_PROXY: proxy.url }, caFile: certificate.caFile }));
  assert.equal(answer.json.password, "through-the-tunnel");
  assert.deepEqual(proxy.connects, [new URL(target.origin).host]);
  assert.equal(target.requests("/tls-token").length, 1);

  // The lower-case variable too, and credentials in the proxy URL become Proxy-Authorization.
  const secured = new URL(proxy.url);
  secured.username = "proxy-user";
  secured.password = "pa%40ss";
  await httpJson(get(url, 5000, { env: { https_proxy: secured.href }, caFile: certificate.caFile }));
  assert.equal(proxy.authorizations.at(-1), `Basic ${Buffer.from("proxy-user:pa@ss").toString("base64")}`);

  // Without the CA, the self-signed certificate is refused: a transport error naming the endpoint.
  const untrusted = await failure(httpJson(get(url, 5000, { env: { HTTPS_PROXY: proxy.url } })));
  assert.match(untrusted.message, new RegExp(`^token endpoint ${url.replace(/[.?]/g, "\\$&")}: (SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|.*self.signed.*)$`, "i"));
  // A proxy that refuses the tunnel.
  proxy.refuseWith = 407;
  assert.match((await failure(httpJson(get(url, 5000, { env: { HTTPS_PROXY: proxy.url }, caFile: certificate.caFile })))).message, /proxy 127\.0\.0\.1:\d+ refused the tunnel: HTTP 407/);
  // A CA file that cannot be read.
  const missing = path.join(tempDir(), "missing-ca.pem");
  assert.equal((await failure(httpJson(get(url, 5000, { caFile: missing })))).message, `token endpoint ${url}: cannot read the CA bundle ${missing} (ENOENT)`);
});

test("HTTP_PROXY: a plain-http endpoint is asked through the proxy in absolute form", async () => {
  const server = await startFaultServer();
  const proxy = await startProxy();
  const url = server.route("/via-proxy", { kind: "json", body: { password: "proxied" } });
  const answer = await httpJson<{ password: string }>(get(url, 5000, { env: { HTTP_PROXY: proxy.url } }));
  assert.equal(answer.json.password, "proxied");
  assert.deepEqual(proxy.forwarded, [url]);
  // HTTPS_PROXY alone does not apply to an http URL.
  await httpJson(get(url, 5000, { env: { HTTPS_PROXY: proxy.url } }));
  assert.equal(proxy.forwarded.length, 1);
});

test("NO_PROXY exempts hosts (exact, suffix, with port, *), and everything else goes through the proxy", async () => {
  const server = await startFaultServer();
  const proxy = await startProxy();
  const url = server.route("/no-proxy", { kind: "json", body: { password: "direct" } });
  const port = new URL(url).port;
  const cases: Array<[string, boolean]> = [
    ["127.0.0.1", false],
    [`127.0.0.1:${port}`, false],
    ["*", false],
    [" example.test , 127.0.0.1 ", false],
    [`127.0.0.1:${Number(port) + 1}`, true],
    ["example.test", true],
    ["", true],
  ];
  for (const [noProxy, proxied] of cases) {
    const before = proxy.forwarded.length;
    await httpJson(get(url, 5000, { env: { HTTP_PROXY: proxy.url, NO_PROXY: noProxy } }));
    assert.equal(proxy.forwarded.length - before, proxied ? 1 : 0, `NO_PROXY=${JSON.stringify(noProxy)}`);
  }
  // Host-name rules, which loopback cannot show: a leading dot or "*." is a suffix, the apex included.
  const rules: Array<[string, string, boolean]> = [
    ["https://registry.example.test/v2/", ".example.test", false],
    ["https://example.test/", ".example.test", false],
    ["https://registry.example.test/", "*.example.test", false],
    ["https://notexample.test/", "example.test", true],
    ["https://REGISTRY.Example.test/", "registry.example.test", false],
    ["https://registry.example.test:8443/", "registry.example.test:443", true],
  ];
  for (const [target, noProxy, proxied] of rules) {
    assert.equal(proxyFor(new URL(target), { HTTPS_PROXY: "http://proxy.test:3128", NO_PROXY: noProxy }) !== undefined, proxied, `${target} with NO_PROXY=${noProxy}`);
  }
});

// A loopback AWS for the ECR provider: ECR and ECR Public (AWS JSON 1.1, X-Amz-Target) and STS (the
// query protocol: AssumeRole, AssumeRoleWithWebIdentity), on one 127.0.0.1 port, as the AWS SDK
// speaks them. It checks every request the way AWS would: the target, the SigV4 Authorization header
// (credential scope region and service, signed headers, and the signature itself against the secret
// of the access key, including keys it issued through STS, with their session token), and answers
// errors in each protocol's own shape. It counts calls per target, and can throttle, fail or
// black-hole any target.
import crypto from "node:crypto";
import http from "node:http";
import { after } from "node:test";
import { listenOnLoopback } from "./failure-mode.js";

export type AwsTarget = "ecr:GetAuthorizationToken" | "ecr-public:GetAuthorizationToken" | "sts:AssumeRole" | "sts:AssumeRoleWithWebIdentity";

const JSON_TARGETS: Readonly<Record<string, AwsTarget>> = {
  "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken": "ecr:GetAuthorizationToken",
  "SpencerFrontendService.GetAuthorizationToken": "ecr-public:GetAuthorizationToken",
};
/** The SigV4 service name each target must be signed for. */
const SIGNING_NAME: Readonly<Record<AwsTarget, string>> = {
  "ecr:GetAuthorizationToken": "ecr",
  "ecr-public:GetAuthorizationToken": "ecr-public",
  "sts:AssumeRole": "sts",
  "sts:AssumeRoleWithWebIdentity": "sts",
};

/** One request as the server saw it. */
export interface AwsRequestRecord {
  target: AwsTarget | "unknown";
  /** The region and service of the SigV4 credential scope; undefined for an unsigned request. */
  region?: string;
  signingName?: string;
  accessKeyId?: string;
  /** Whether the signature matched the secret of accessKeyId (and the session token matched). */
  signatureValid?: boolean;
  /** The STS parameters (RoleArn, RoleSessionName, ...), WebIdentityToken replaced by its length. */
  params: Record<string, string>;
  /** What the server answered: "ok", "throttled", "failed", "black-holed", or why it refused. */
  outcome: string;
}

export interface AwsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsServer {
  url: string;
  /** Every request, in order. */
  readonly requests: readonly AwsRequestRecord[];
  /** Requests per target (all targets when absent). */
  calls(target?: AwsTarget): number;
  /** Requests the server refused for a protocol or signature fault; tests expect none. */
  refusals(): AwsRequestRecord[];
  /** Lets requests signed with this key in. */
  addIdentity(identity: AwsIdentity): void;
  /** Lets AssumeRole assume this role (for any signed caller), and AssumeRoleWithWebIdentity with these tokens. */
  allowRole(roleArn: string, webIdentityTokens?: readonly string[]): void;
  /** The credentials STS handed out for a role, in order. */
  issuedFor(roleArn: string): readonly AwsIdentity[];
  /** The passwords GetAuthorizationToken handed out, in order. */
  readonly passwords: readonly string[];
  /** Answers the next `count` requests for target with ThrottlingException (HTTP 400). */
  throttle(target: AwsTarget, count: number): void;
  /** Answers the next `count` requests for target with HTTP `status` (a 5xx). */
  fail(target: AwsTarget, count: number, status?: number): void;
  /** Accepts requests for target (or every target) and never answers them. */
  blackHole(target?: AwsTarget): void;
  /** Lifetime of the ECR tokens it issues, in seconds (default 12 h, as ECR). */
  tokenLifetimeSeconds: number;
  close(): Promise<void>;
}

const STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/";

function sha256Hex(data: string | Buffer): string {
  return crypto.createHash("sha256").update(data).digest("hex");
}

function hmac(key: string | Buffer, data: string): Buffer {
  return crypto.createHmac("sha256", key).update(data).digest();
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(header: string | undefined): ParsedAuthorization | undefined {
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(header ?? "");
  if (!match) return undefined;
  return { accessKeyId: match[1]!, date: match[2]!, region: match[3]!, service: match[4]!, signedHeaders: match[5]!.split(";"), signature: match[6]! };
}

/** SigV4 as AWS checks it: canonical request, string to sign, the key derived from the secret. */
function signatureMatches(req: http.IncomingMessage, body: Buffer, auth: ParsedAuthorization, secret: string): boolean {
  const amzDate = String(req.headers["x-amz-date"] ?? "");
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== auth.date) return false;
  const url = new URL(req.url ?? "/", "http://x");
  const query = [...url.searchParams.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
  const headers = auth.signedHeaders.map((name) => `${name}:${String(req.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const payloadHash = sha256Hex(body);
  const declared = req.headers["x-amz-content-sha256"];
  if (declared !== undefined && declared !== payloadHash) return false;
  const canonical = [req.method, url.pathname, query, headers, auth.signedHeaders.join(";"), payloadHash].join("\n");
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, auth.date), auth.region), auth.service), "aws4_request");
  return crypto.timingSafeEqual(Buffer.from(hmac(key, toSign).toString("hex")), Buffer.from(auth.signature));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Starts the server on 127.0.0.1; it is closed when the test file finishes. */
export async function startAwsServer(): Promise<AwsServer> {
  const server = await createAwsServer();
  after(() => server.close());
  return server;
}

/** Starts the server on 127.0.0.1, for scripts (the benchmark): the caller closes it. */
export async function createAwsServer(): Promise<AwsServer> {
  const requests: AwsRequestRecord[] = [];
  const identities = new Map<string, AwsIdentity>();
  const roles = new Map<string, Set<string>>();
  const issued = new Map<string, AwsIdentity[]>();
  const passwords: string[] = [];
  const throttles = new Map<AwsTarget, number>();
  const failures = new Map<AwsTarget, { count: number; status: number }>();
  const blackHoled = new Set<AwsTarget | "*">();
  const hanging = new Set<http.ServerResponse>();
  const state = { tokenLifetimeSeconds: 12 * 3600 };
  let serial = 0;

  const jsonAnswer = (res: http.ServerResponse, status: number, body: object) => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": crypto.randomUUID() }).end(JSON.stringify(body));
  };
  const jsonError = (res: http.ServerResponse, status: number, type: string, message: string) => jsonAnswer(res, status, { __type: type, message });
  const stsAnswer = (res: http.ServerResponse, action: string, result: string) => {
    res.writeHead(200, { "content-type": "text/xml" }).end(
      `<${action}Response xmlns="${STS_NS}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${crypto.randomUUID()}</RequestId></ResponseMetadata></${action}Response>`);
  };
  const stsError = (res: http.ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { "content-type": "text/xml" }).end(
      `<ErrorResponse xmlns="${STS_NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error><RequestId>${crypto.randomUUID()}</RequestId></ErrorResponse>`);
  };

  const issueCredentials = (roleArn: string): AwsIdentity => {
    serial++;
    const identity = {
      accessKeyId: `ASIA${String(serial).padStart(4, "0")}${crypto.randomBytes(6).toString("hex").toUpperCase()}`,
      secretAccessKey: crypto.randomBytes(30).toString("base64"),
      sessionToken: `session-${serial}-${crypto.randomBytes(24).toString("base64url")}`,
    };
    identities.set(identity.accessKeyId, identity);
    if (!issued.has(roleArn)) issued.set(roleArn, []);
    issued.get(roleArn)!.push(identity);
    return identity;
  };
  const credentialsXml = (identity: AwsIdentity, roleArn: string) => {
    const expiration = new Date(Date.now() + 3600_000).toISOString();
    const [, account, name] = /^arn:[^:]+:iam::(\d{12}):role\/(.+)$/.exec(roleArn) ?? [];
    return `<Credentials><AccessKeyId>${identity.accessKeyId}</AccessKeyId><SecretAccessKey>${escapeXml(identity.secretAccessKey)}</SecretAccessKey>` +
      `<SessionToken>${escapeXml(identity.sessionToken!)}</SessionToken><Expiration>${expiration}</Expiration></Credentials>` +
      `<AssumedRoleUser><Arn>arn:aws:sts::${account}:assumed-role/${name}/credmux</Arn><AssumedRoleId>AROA${serial}:credmux</AssumedRoleId></AssumedRoleUser>`;
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    const record: AwsRequestRecord = { target: "unknown", params: {}, outcome: "" };
    requests.push(record);
    const refuse = (why: string, answer: () => void) => {
      record.outcome = `refused: ${why}`;
      answer();
    };
    const contentType = String(req.headers["content-type"] ?? "");
    let target: AwsTarget | undefined;
    let params: URLSearchParams | undefined;
    if (contentType.startsWith("application/x-amz-json-1.1")) {
      target = JSON_TARGETS[String(req.headers["x-amz-target"] ?? "")];
      if (!target) return refuse(`unknown X-Amz-Target ${String(req.headers["x-amz-target"])}`, () => jsonError(res, 400, "UnknownOperationException", "unknown target"));
      try {
        JSON.parse(body.toString("utf8"));
      } catch {
        return refuse("body is not JSON", () => jsonError(res, 400, "SerializationException", "body is not JSON"));
      }
    } else if (contentType.startsWith("application/x-www-form-urlencoded")) {
      params = new URLSearchParams(body.toString("utf8"));
      const action = params.get("Action");
      if (params.get("Version") !== "2011-06-15") return refuse("STS Version is not 2011-06-15", () => stsError(res, 400, "InvalidParameterValue", "bad Version"));
      if (action !== "AssumeRole" && action !== "AssumeRoleWithWebIdentity") return refuse(`unknown STS Action ${action}`, () => stsError(res, 400, "InvalidAction", "unknown action"));
      target = `sts:${action}`;
      for (const [key, value] of params) record.params[key] = key === "WebIdentityToken" ? `(${value.length} chars)` : value;
    } else {
      return refuse(`unexpected content-type ${contentType}`, () => jsonError(res, 400, "SerializationException", "bad content-type"));
    }
    if (req.method !== "POST" || new URL(req.url ?? "/", "http://x").pathname !== "/") {
      return refuse(`${req.method} ${req.url}`, () => jsonError(res, 400, "UnknownOperationException", "expected POST /"));
    }
    record.target = target;
    const sts = target.startsWith("sts:");
    const error = (status: number, code: string, message: string) => (sts ? stsError(res, status, code, message) : jsonError(res, status, code, message));

    // The signature: every call but AssumeRoleWithWebIdentity must carry one, for the right service.
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const auth = parseAuthorization(authorization);
      if (!auth) return refuse("malformed Authorization header", () => error(400, "IncompleteSignature", "malformed Authorization"));
      record.region = auth.region;
      record.signingName = auth.service;
      record.accessKeyId = auth.accessKeyId;
      if (auth.service !== SIGNING_NAME[target]) return refuse(`signed for service ${auth.service}`, () => error(403, "InvalidSignatureException", "wrong service in credential scope"));
      if (!auth.signedHeaders.includes("host") || !auth.signedHeaders.includes("x-amz-date")) return refuse("host or x-amz-date not signed", () => error(403, "InvalidSignatureException", "host and x-amz-date must be signed"));
      const identity = identities.get(auth.accessKeyId);
      if (!identity) return refuse(`unknown access key ${auth.accessKeyId}`, () => error(403, sts ? "InvalidClientTokenId" : "UnrecognizedClientException", "The security token included in the request is invalid."));
      record.signatureValid = signatureMatches(req, body, auth, identity.secretAccessKey) &&
        req.headers["x-amz-security-token"] === identity.sessionToken &&
        (identity.sessionToken === undefined || auth.signedHeaders.includes("x-amz-security-token"));
      if (!record.signatureValid) return refuse("signature does not match", () => error(403, sts ? "SignatureDoesNotMatch" : "InvalidSignatureException", "The request signature we calculated does not match the signature you provided."));
    } else if (target !== "sts:AssumeRoleWithWebIdentity") {
      return refuse("unsigned request", () => error(403, "MissingAuthenticationTokenException", "Missing Authentication Token"));
    }

    if (blackHoled.has("*") || blackHoled.has(target)) {
      record.outcome = "black-holed";
      hanging.add(res);
      return;
    }
    const throttled = throttles.get(target) ?? 0;
    if (throttled > 0) {
      throttles.set(target, throttled - 1);
      record.outcome = "throttled";
      return sts ? stsError(res, 400, "Throttling", "Rate exceeded") : jsonError(res, 400, "ThrottlingException", "Rate exceeded");
    }
    const failing = failures.get(target);
    if (failing && failing.count > 0) {
      failing.count--;
      record.outcome = "failed";
      return sts ? stsError(res, failing.status, "InternalFailure", "internal failure") : jsonError(res, failing.status, "ServerException", "internal failure");
    }

    if (target === "sts:AssumeRole" || target === "sts:AssumeRoleWithWebIdentity") {
      const roleArn = params!.get("RoleArn") ?? "";
      const allowed = roles.get(roleArn);
      if (!allowed) return refuse(`role ${roleArn} is not assumable`, () => stsError(res, 403, "AccessDenied", `Not authorized to perform sts:AssumeRole on ${roleArn}`));
      if (!params!.get("RoleSessionName")) return refuse("no RoleSessionName", () => stsError(res, 400, "ValidationError", "RoleSessionName is required"));
      if (target === "sts:AssumeRoleWithWebIdentity" && !allowed.has(params!.get("WebIdentityToken") ?? "")) {
        return refuse("web identity token not accepted", () => stsError(res, 400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider"));
      }
      record.outcome = "ok";
      const action = target.slice(4);
      return stsAnswer(res, action, credentialsXml(issueCredentials(roleArn), roleArn));
    }
    const password = `${target.split(":")[0]}-pw-${requests.length}-${crypto.randomBytes(8).toString("hex")}`;
    passwords.push(password);
    const data = {
      authorizationToken: Buffer.from(`AWS:${password}`).toString("base64"),
      expiresAt: Math.floor(Date.now() / 1000) + state.tokenLifetimeSeconds,
    };
    record.outcome = "ok";
    if (target === "ecr-public:GetAuthorizationToken") return jsonAnswer(res, 200, { authorizationData: data });
    return jsonAnswer(res, 200, { authorizationData: [{ ...data, proxyEndpoint: "https://111122223333.dkr.ecr.us-east-1.amazonaws.com" }] });
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  const { base, close } = await listenOnLoopback(server, hanging);
  return {
    url: base,
    requests,
    calls: (target) => requests.filter((r) => target === undefined || r.target === target).length,
    refusals: () => requests.filter((r) => r.outcome.startsWith("refused")),
    addIdentity: (identity) => { identities.set(identity.accessKeyId, identity); },
    allowRole: (roleArn, tokens = []) => {
      if (!roles.has(roleArn)) roles.set(roleArn, new Set());
      for (const token of tokens) roles.get(roleArn)!.add(token);
    },
    issuedFor: (roleArn) => issued.get(roleArn) ?? [],
    passwords,
    throttle: (target, count) => { throttles.set(target, count); },
    fail: (target, count, status = 500) => { failures.set(target, { count, status }); },
    blackHole: (target) => { blackHoled.add(target ?? "*"); },
    get tokenLifetimeSeconds() { return state.tokenLifetimeSeconds; },
    set tokenLifetimeSeconds(value) { state.tokenLifetimeSeconds = value; },
    close,
  };
}

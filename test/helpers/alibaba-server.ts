// A loopback Alibaba Cloud: the ECS metadata server (session token by PUT /latest/api/token,
// required in hardened mode; RAM role credentials), STS AssumeRoleWithOIDC (anonymous, query plus
// form body), and the cr API of both editions (Personal 2016-06-07 GET /tokens; Enterprise
// 2018-12-01 ListInstance and GetAuthorizationToken), which verifies every ACS3-HMAC-SHA256
// signature from the request it received: canonical request, signed headers, payload hash, date
// skew, nonce reuse and the STS security token. Each part can fail (503), refuse, hang, or answer
// malformed or incomplete.
import crypto from "node:crypto";
import http from "node:http";
import { after } from "node:test";
import { answerFailure, listenOnLoopback, type Mode } from "./failure-mode.js";

export type { Mode } from "./failure-mode.js";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** For cr API calls: the x-acs-action, and whether the signature verified. */
  action?: string;
  verified?: boolean;
}

interface KeyPair {
  secret: string;
  /** Temporary keys: the security token that must come with them. */
  securityToken?: string;
}

export interface AlibabaServer {
  /** http://127.0.0.1:PORT: metadataEndpoint, stsEndpoint and apiEndpoint alike. */
  url: string;
  requests: RecordedRequest[];
  modes: { metadata: Mode; sts: Mode; api: Mode };
  /** Hardened mode: metadata reads need the session token. */
  requireMetadataToken: boolean;
  /** false: PUT /latest/api/token answers 404, as an old metadata server. */
  metadataTokenApi: boolean;
  /** The instance's RAM role. */
  ecsRole: string;
  /** Long-term access keys: id -> secret. */
  accessKeys: Map<string, string>;
  /** STS: the OIDC provider ARN, the roles it may assume, the OIDC tokens it accepts. */
  oidc: { providerArn: string; roleArns: Set<string>; tokens: Set<string> };
  /** Enterprise instances: name -> id. */
  instances: Map<string, string>;
  tokenLifetimeSeconds: number;
  /** Every registry token handed out, and every temporary key id. */
  issued: { registryTokens: string[]; temporaryKeys: string[] };
  close(): Promise<void>;
}

const sha256 = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest("hex");
const rfc3986 = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());

/** Recomputes the ACS3-HMAC-SHA256 signature of a received request; the reason it fails, or undefined. */
function verifyAcs3(req: http.IncomingMessage, rawPath: string, body: string, keys: ReadonlyMap<string, KeyPair>, nonces: Set<string>): string | undefined {
  const auth = String(req.headers.authorization ?? "");
  const parsed = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(auth);
  if (!parsed) return "MissingAuthorization";
  const [, keyId, signedList, signature] = parsed as unknown as [string, string, string, string];
  const key = keys.get(keyId);
  if (!key) return "InvalidAccessKeyId.NotFound";
  const signed = signedList.split(";");
  if ([...signed].sort().join(";") !== signedList) return "SignatureDoesNotMatch: SignedHeaders not sorted";
  for (const required of ["host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"]) {
    if (!signed.includes(required)) return `SignatureDoesNotMatch: ${required} is not signed`;
  }
  for (const name of Object.keys(req.headers)) {
    if (name.startsWith("x-acs-") && !signed.includes(name)) return `SignatureDoesNotMatch: ${name} sent but not signed`;
  }
  if (req.headers["x-acs-content-sha256"] !== sha256(body)) return "InvalidParameter: x-acs-content-sha256";
  const date = Date.parse(String(req.headers["x-acs-date"]));
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(String(req.headers["x-acs-date"])) || Math.abs(Date.now() - date) > 15 * 60_000) return "InvalidTimeStamp.Expired";
  const nonce = String(req.headers["x-acs-signature-nonce"]);
  if (nonces.has(nonce)) return "SignatureNonceUsed";
  if (key.securityToken !== undefined && req.headers["x-acs-security-token"] !== key.securityToken) return "InvalidSecurityToken.Mismatch";
  const [pathPart, queryPart = ""] = rawPath.split("?") as [string, string?];
  const query = queryPart.split("&").filter(Boolean).map((pair) => {
    const [k, v = ""] = pair.split("=") as [string, string?];
    return [rfc3986(decodeURIComponent(k.replace(/\+/g, " "))), rfc3986(decodeURIComponent(v.replace(/\+/g, " ")))] as const;
  }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join("&");
  const canonicalHeaders = signed.map((name) => `${name}:${String(req.headers[name] ?? "").trim()}\n`).join("");
  const canonical = `${req.method}\n${pathPart}\n${query}\n${canonicalHeaders}\n${signedList}\n${sha256(body)}`;
  const expected = crypto.createHmac("sha256", key.secret).update(`ACS3-HMAC-SHA256\n${sha256(canonical)}`).digest("hex");
  if (expected !== signature) return "SignatureDoesNotMatch";
  nonces.add(nonce);
  return undefined;
}

/** Starts the server on 127.0.0.1 without test hooks (for scripts); close it yourself. */
export async function createAlibabaServer(): Promise<AlibabaServer> {
  const hanging = new Set<http.ServerResponse>();
  const metadataTokens = new Set<string>();
  const temporary = new Map<string, KeyPair>();
  const nonces = new Set<string>();
  let counter = 0;
  const state = {
    requests: [] as RecordedRequest[],
    modes: { metadata: "ok", sts: "ok", api: "ok" } as AlibabaServer["modes"],
    requireMetadataToken: false,
    metadataTokenApi: true,
    ecsRole: "KubernetesWorkerRole",
    accessKeys: new Map<string, string>(),
    oidc: { providerArn: "acs:ram::1234567890:oidc-provider/ack-rrsa-c1", roleArns: new Set<string>(), tokens: new Set<string>() },
    instances: new Map<string, string>(),
    tokenLifetimeSeconds: 3600,
    issued: { registryTokens: [] as string[], temporaryKeys: [] as string[] },
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/json;charset=utf-8" }).end(JSON.stringify(body));
  const failed = (mode: Mode, res: http.ServerResponse): boolean => answerFailure(mode, res, hanging,
    () => json(res, 503, { RequestId: "r", Code: "ServiceUnavailable", Message: "The request has failed due to a temporary failure of the server." }));
  const temporaryKeys = () => {
    const id = `STS.${++counter}${crypto.randomBytes(6).toString("hex")}`;
    const pair = { secret: crypto.randomBytes(16).toString("hex"), securityToken: `CAIS${crypto.randomBytes(24).toString("base64")}` };
    temporary.set(id, pair);
    state.issued.temporaryKeys.push(id);
    return { AccessKeyId: id, AccessKeySecret: pair.secret, SecurityToken: pair.securityToken, Expiration: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z") };
  };
  const registryToken = () => {
    const token = `acr-token-${++counter}-${crypto.randomBytes(8).toString("hex")}`;
    state.issued.registryTokens.push(token);
    return { token, expires: Date.now() + state.tokenLifetimeSeconds * 1000 };
  };

  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => { body += chunk; });
    req.on("end", () => {
      const rawPath = req.url ?? "/";
      const url = new URL(rawPath, "http://x");
      const record: RecordedRequest = { method: req.method ?? "", path: rawPath, headers: req.headers, body };
      state.requests.push(record);

      // ECS metadata.
      if (url.pathname === "/latest/api/token" && req.method === "PUT") {
        if (failed(state.modes.metadata, res)) return;
        if (!state.metadataTokenApi) return res.writeHead(404).end("Not Found");
        const ttl = Number(req.headers["x-aliyun-ecs-metadata-token-ttl-seconds"]);
        if (!Number.isInteger(ttl) || ttl < 1 || ttl > 21600) return res.writeHead(400).end("Bad Request");
        const token = `mt-${crypto.randomBytes(12).toString("hex")}`;
        metadataTokens.add(token);
        return res.writeHead(200, { "content-type": "text/plain" }).end(token);
      }
      if (url.pathname.startsWith("/latest/meta-data/ram/security-credentials/") && req.method === "GET") {
        if (failed(state.modes.metadata, res)) return;
        const token = req.headers["x-aliyun-ecs-metadata-token"];
        if (token !== undefined && !metadataTokens.has(String(token))) return res.writeHead(401).end("Unauthorized");
        if (state.requireMetadataToken && token === undefined) return res.writeHead(403).end("Forbidden");
        const role = decodeURIComponent(url.pathname.slice("/latest/meta-data/ram/security-credentials/".length));
        if (role === "") return res.writeHead(200, { "content-type": "text/plain" }).end(state.ecsRole);
        if (role !== state.ecsRole || state.modes.metadata === "refuse") return res.writeHead(404, { "content-type": "text/html" }).end("Not Found");
        if (state.modes.metadata === "incomplete") return json(res, 200, { Code: "Success", Expiration: "2030-01-01T00:00:00Z" });
        return json(res, 200, { ...temporaryKeys(), LastUpdated: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"), Code: "Success" });
      }

      // STS AssumeRoleWithOIDC: anonymous; common parameters in the query, the rest in a form body.
      if (url.searchParams.get("Action") === "AssumeRoleWithOIDC") {
        if (failed(state.modes.sts, res)) return;
        const form = new URLSearchParams(body);
        const bad = (code: string, message: string) => json(res, 400, { RequestId: "r", HostId: "sts.aliyuncs.com", Code: code, Message: message });
        if (req.method !== "POST" || !String(req.headers["content-type"]).startsWith("application/x-www-form-urlencoded")) return bad("InvalidParameter", "expected a POST form");
        if (url.searchParams.get("Version") !== "2015-04-01" || url.searchParams.get("Format") !== "JSON" || !url.searchParams.get("Timestamp")) return bad("MissingParameter", "Version, Format and Timestamp are required");
        if (req.headers.authorization !== undefined) return bad("InvalidParameter", "AssumeRoleWithOIDC is anonymous");
        if (!form.get("RoleSessionName")) return bad("MissingRoleSessionName", "RoleSessionName is mandatory for this action.");
        if (form.get("OIDCProviderArn") !== state.oidc.providerArn) return bad("EntityNotExist.OIDCProvider", "The OIDC provider does not exist.");
        if (state.modes.sts === "refuse" || !state.oidc.tokens.has(form.get("OIDCToken") ?? "")) return bad("InvalidParameter.OIDCToken.Invalid", "The OIDC token is invalid.");
        if (!state.oidc.roleArns.has(form.get("RoleArn") ?? "")) return bad("EntityNotExist.Role", "The specified Role not exists.");
        if (state.modes.sts === "incomplete") return json(res, 200, { RequestId: "r", Credentials: { Expiration: "2030-01-01T00:00:00Z" } });
        return json(res, 200, {
          RequestId: "r",
          OIDCTokenInfo: { Issuer: "https://oidc-ack-cn-hangzhou.oss-cn-hangzhou.aliyuncs.com/c1", ClientIds: "sts.aliyuncs.com" },
          AssumedRoleUser: { Arn: `${form.get("RoleArn")}/${form.get("RoleSessionName")}`, AssumedRoleId: "3xxx:session" },
          Credentials: temporaryKeys(),
        });
      }

      // The cr API, ACS3-signed.
      const action = req.headers["x-acs-action"];
      if (typeof action === "string") {
        record.action = action;
        if (failed(state.modes.api, res)) return;
        const keys = new Map<string, KeyPair>([...[...state.accessKeys].map(([id, secret]) => [id, { secret }] as const), ...temporary]);
        const problem = verifyAcs3(req, rawPath, body, keys, nonces);
        record.verified = problem === undefined;
        if (problem) return json(res, problem.startsWith("InvalidAccessKeyId") ? 404 : 400, { RequestId: "r", HostId: "cr.aliyuncs.com", Code: problem.split(":")[0], Message: problem });
        if (state.modes.api === "refuse") return json(res, 403, { RequestId: "r", Code: "Forbidden.RAM", Message: "User not authorized to operate on the specified resource, or this API doesn't support RAM." });
        const version = req.headers["x-acs-version"];
        if (version === "2016-06-07" && action === "GetAuthorizationToken" && req.method === "GET" && url.pathname === "/tokens") {
          if (state.modes.api === "incomplete") return json(res, 200, { data: { tempUserName: "cr_temp_user" } });
          const { token, expires } = registryToken();
          return json(res, 200, { data: { authorizationToken: token, tempUserName: "cr_temp_user", expireDate: expires } });
        }
        if (version === "2018-12-01" && url.pathname === "/" && req.method === "POST") {
          if (action === "ListInstance") {
            const name = url.searchParams.get("InstanceName");
            // The API's name filter matches by substring; the caller must pick the exact name.
            const instances = [...state.instances].filter(([instanceName]) => !name || instanceName.includes(name))
              .map(([InstanceName, InstanceId]) => ({ InstanceName, InstanceId, RegionId: "cn-hangzhou", InstanceStatus: "RUNNING", InstanceSpecification: "Enterprise_Basic" }));
            return json(res, 200, { RequestId: "r", IsSuccess: true, Code: "success", PageNo: Number(url.searchParams.get("PageNo") ?? 1), PageSize: Number(url.searchParams.get("PageSize") ?? 30), TotalCount: instances.length, Instances: instances });
          }
          if (action === "GetAuthorizationToken") {
            const id = url.searchParams.get("InstanceId");
            if (!id || ![...state.instances.values()].includes(id)) return json(res, 200, { RequestId: "r", IsSuccess: false, Code: "INSTANCE_NOT_EXIST" });
            if (state.modes.api === "incomplete") return json(res, 200, { RequestId: "r", IsSuccess: true, Code: "success", TempUsername: "cr_temp_user" });
            const { token, expires } = registryToken();
            return json(res, 200, { RequestId: "r", IsSuccess: true, Code: "success", TempUsername: "cr_temp_user", AuthorizationToken: token, ExpireTime: expires });
          }
        }
        return json(res, 404, { RequestId: "r", Code: "InvalidAction.NotFound", Message: "Specified api is not found, please check your url and method." });
      }
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    });
  });
  const { base, close } = await listenOnLoopback(server, hanging);
  return Object.assign(state, { url: base, close });
}

/** Starts the server; it is closed when the test file finishes. */
export async function startAlibabaServer(): Promise<AlibabaServer> {
  const server = await createAlibabaServer();
  after(() => server.close());
  return server;
}

// Alibaba Cloud Container Registry: the `cr` API's GetAuthorizationToken of the registry's edition
// (Personal Edition 2016-06-07, ROA GET /tokens; Enterprise Edition 2018-12-01, RPC, with the
// instance id looked up by name through ListInstance), signed with ACS3-HMAC-SHA256 (the signature
// the current Alibaba SDKs send; the V2 one is discontinued) using credentials from an access key,
// RRSA (STS AssumeRoleWithOIDC with an OIDC token file, or in service-account mode the
// kubelet-supplied token) or the ECS instance's RAM role (metadata at 100.100.100.200).
// The answer is the temporary username and token, cached until the token's own expiry.
import fs from "node:fs";
import path from "node:path";
import * as z from "../src/provider-kit/schema.js";
import { httpJson, httpRequest, withRetries, HttpStatusError, type HttpRequest } from "../src/provider-kit/http-client.js";
import { keyWithinPatterns, matchImage } from "../src/match.js";
import { registryWideKeys } from "../src/provider-kit/registry-keys.js";
import type { SecretSet } from "../src/secrets.js";
import { defineProvider, providerError, ProviderError, type CredentialRequest, type ProviderEnv, type ProviderResult } from "../src/provider.js";
import { ALIBABA_DEFAULT_MATCH_IMAGES, alibabaRegistry, type AlibabaRegistry } from "./alibaba-hosts.js";

const TYPE = "alibaba";
const fail = providerError(TYPE);
const DEFAULT_METADATA = "http://100.100.100.200";
const DEFAULT_STS = "https://sts.aliyuncs.com";
const DEFAULT_API = "https://cr.{region}.aliyuncs.com";
const PERSONAL_API_VERSION = "2016-06-07";
const ENTERPRISE_API_VERSION = "2018-12-01";
const STS_API_VERSION = "2015-04-01";
const METADATA_TOKEN_TTL_SECONDS = "21600";
const STS_SESSION_SECONDS = "3600";
const USER_AGENT = "credmux alibaba";
const MAX_FILE_BYTES = 64 * 1024;
/** ListInstance pages; an account has few Enterprise instances, so this bounds the lookup. */
const INSTANCE_PAGE_SIZE = 30;
const MAX_INSTANCE_PAGES = 10;

const options = () => {
  const nonEmpty = z.string().check(z.minLength(1));
  const httpUrl = nonEmpty.check(z.refine((text) => /^https?:\/\/[^/]/.test(text) && URL.canParse(text), { message: "expected an http:// or https:// URL" }));

  return z.strictObject({
    /** Which credentials sign the API calls; default: RRSA if configured, else an access key if configured, else the ECS RAM role. */
    credential: z.optional(z.enum(["ecsRamRole", "rrsa", "accessKey"])),
    /** The instance's RAM role; default $ALIBABA_CLOUD_ECS_METADATA, else the role the metadata server lists. */
    ecsRoleName: z.optional(nonEmpty),
    metadataEndpoint: z.optional(httpUrl),
    /** Ask the metadata server for a session token first (security-hardened mode); default true. */
    metadataToken: z.optional(z.boolean()),
    /** RRSA: default $ALIBABA_CLOUD_ROLE_ARN, $ALIBABA_CLOUD_OIDC_PROVIDER_ARN, $ALIBABA_CLOUD_OIDC_TOKEN_FILE. */
    roleArn: z.optional(nonEmpty),
    oidcProviderArn: z.optional(nonEmpty),
    oidcTokenFile: z.optional(nonEmpty),
    /** Service-account mode: the annotation naming the RAM role to assume (else roleArn). */
    roleArnAnnotation: z.optional(nonEmpty),
    stsEndpoint: z.optional(httpUrl),
    /** Access key: default $ALIBABA_CLOUD_ACCESS_KEY_ID and $ALIBABA_CLOUD_ACCESS_KEY_SECRET. */
    accessKeyId: z.optional(nonEmpty),
    accessKeySecretFile: z.optional(nonEmpty),
    /** The cr API's URL, in which {region} stands for the registry's region. */
    apiEndpoint: z.optional(nonEmpty.check(z.refine((text) => /^https?:\/\//.test(text) && URL.canParse(text.replaceAll("{region}", "cn-hangzhou")), {
      message: "expected an http:// or https:// URL, in which {region} stands for the region",
    }))),
    /** Enterprise Edition instances by registry host: custom domains, or to skip the ListInstance lookup. */
    instances: z.optional(z.record(nonEmpty, z.strictObject({ instanceId: nonEmpty, region: nonEmpty }))),
  });
};
type Options = z.infer<ReturnType<typeof options>>;

/** Credentials that sign API calls. */
export interface AlibabaCredentials {
  accessKeyId: string;
  accessKeySecret: string;
  securityToken?: string;
  /** Where they came from, for messages. */
  source: string;
}

function readSmallFile(file: string, what: string): string {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > MAX_FILE_BYTES) throw fail(`${what} ${file} is not a small regular file`);
    text = fs.readFileSync(file, "utf8").trim();
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw fail(`cannot read the ${what} ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      "check the file's path, owner and mode: the kubelet runs credmux as its own user");
  }
  if (text === "") throw fail(`the ${what} ${file} is empty`);
  return text;
}

/** RFC 3986 percent-encoding, as the ACS3 canonical forms require (unreserved characters stay). */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface SignableRequest {
  method: string;
  url: URL;
  /** API name and version: the x-acs-action and x-acs-version headers. */
  action: string;
  version: string;
  body: string;
  /** Headers sent besides the signed x-acs-* ones. */
  headers?: Record<string, string>;
  /** x-acs-date, ISO 8601 in UTC without fractions: 2026-01-02T03:04:05Z. */
  date: string;
  nonce: string;
}

/** The request's headers with the ACS3-HMAC-SHA256 Authorization (Alibaba Cloud's V3 request signature). */
export function signAcs3(request: SignableRequest, credentials: AlibabaCredentials): Record<string, string> {
  const crypto = require("node:crypto") as typeof import("node:crypto");
  const sha256 = (text: string) => crypto.createHash("sha256").update(text, "utf8").digest("hex");
  const payloadHash = sha256(request.body);
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.url.host,
    "x-acs-action": request.action,
    "x-acs-version": request.version,
    "x-acs-date": request.date,
    "x-acs-signature-nonce": request.nonce,
    "x-acs-content-sha256": payloadHash,
    ...(credentials.securityToken ? { "x-acs-security-token": credentials.securityToken } : {}),
  };
  const lower = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value.trim()]));
  const signed = Object.keys(lower).filter((name) => name === "host" || name === "content-type" || name.startsWith("x-acs-")).sort();
  const query = [...request.url.searchParams]
    .map(([key, value]) => [percentEncode(key), percentEncode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  const canonicalUri = request.url.pathname.split("/").map((segment) => percentEncode(decodeURIComponent(segment))).join("/") || "/";
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalUri,
    query,
    signed.map((name) => `${name}:${lower[name]}\n`).join(""),
    signed.join(";"),
    payloadHash,
  ].join("\n");
  const stringToSign = `ACS3-HMAC-SHA256\n${sha256(canonicalRequest)}`;
  const signature = crypto.createHmac("sha256", credentials.accessKeySecret).update(stringToSign, "utf8").digest("hex");
  return { ...headers, authorization: `ACS3-HMAC-SHA256 Credential=${credentials.accessKeyId},SignedHeaders=${signed.join(";")},Signature=${signature}` };
}

/** An ISO 8601 UTC time without milliseconds, as Alibaba's APIs take it. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function nonce(): string {
  return (require("node:crypto") as typeof import("node:crypto")).randomBytes(16).toString("hex");
}

interface StsAnswer {
  Credentials?: { AccessKeyId?: unknown; AccessKeySecret?: unknown; SecurityToken?: unknown; Expiration?: unknown };
}

/** Temporary credentials from an answer shaped like STS's or the metadata server's, or a ProviderError. */
function temporaryCredentials(fields: Record<string, unknown> | undefined, what: string, source: string, env: ProviderEnv): AlibabaCredentials {
  const { AccessKeyId: id, AccessKeySecret: secret, SecurityToken: token } = fields ?? {};
  if (typeof id !== "string" || id === "" || typeof secret !== "string" || secret === "" || typeof token !== "string" || token === "") {
    throw fail(`${what} answered without AccessKeyId, AccessKeySecret and SecurityToken`);
  }
  env.secrets.add(secret);
  env.secrets.add(token);
  return { accessKeyId: id, accessKeySecret: secret, securityToken: token, source };
}

/** STS AssumeRoleWithOIDC: an anonymous call, the OIDC token is the proof. */
async function assumeRoleWithOidc(opts: Options, roleArn: string, providerArn: string, oidcToken: string, env: ProviderEnv, signal: AbortSignal): Promise<AlibabaCredentials> {
  // The variable names a host (sts-vpc.cn-hangzhou.aliyuncs.com), as Alibaba's SDKs read it.
  const fromEnv = env.env.ALIBABA_CLOUD_STS_ENDPOINT;
  const endpoint = opts.stsEndpoint ?? (fromEnv ? (/^https?:\/\//.test(fromEnv) ? fromEnv : `https://${fromEnv}`) : DEFAULT_STS);
  if (!URL.canParse(endpoint)) throw fail(`STS endpoint ${endpoint} is not a URL`, "check ALIBABA_CLOUD_STS_ENDPOINT");
  const url = new URL(endpoint);
  url.pathname = "/";
  for (const [key, value] of Object.entries({ Action: "AssumeRoleWithOIDC", Format: "JSON", Version: STS_API_VERSION, Timestamp: isoSeconds(env.now()) })) {
    url.searchParams.set(key, value);
  }
  const body = new URLSearchParams({
    RoleArn: roleArn,
    OIDCProviderArn: providerArn,
    OIDCToken: oidcToken,
    RoleSessionName: `credmux-${env.now()}`,
    DurationSeconds: STS_SESSION_SECONDS,
  }).toString();
  const what = `STS AssumeRoleWithOIDC ${url.origin}`;
  try {
    const { json } = await withRetries(() => apiJson<StsAnswer>({
      url: url.href, method: "POST", body, signal, what, env: env.env, secrets: env.secrets,
      headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": USER_AGENT },
    }), { signal });
    return temporaryCredentials(json?.Credentials as Record<string, unknown> | undefined, what, `RRSA role ${roleArn}`, env);
  } catch (error) {
    throw fail.withHint(error, "check the RAM role's trust policy for the cluster's OIDC provider and the token's audience (sts.aliyuncs.com)");
  }
}

/** The ECS instance's RAM role credentials, through the metadata server (hardened mode when it offers a token). */
async function ecsRoleCredentials(opts: Options, env: ProviderEnv, signal: AbortSignal): Promise<AlibabaCredentials> {
  const base = (opts.metadataEndpoint ?? DEFAULT_METADATA).replace(/\/+$/, "");
  const headers: Record<string, string> = { "user-agent": USER_AGENT };
  try {
    if (opts.metadataToken !== false) {
      const url = `${base}/latest/api/token`;
      const what = `ECS metadata server ${url}`;
      const answer = await withRetries(() => textCall({ url, method: "PUT", signal, what, env: env.env, secrets: env.secrets, headers: { ...headers, "x-aliyun-ecs-metadata-token-ttl-seconds": METADATA_TOKEN_TTL_SECONDS } }), { signal })
        .catch((error: unknown) => {
          // A metadata server without the token API answers with an HTTP error: carry on without one, as Alibaba's SDKs do.
          if (error instanceof HttpStatusError && !error.retryable) return undefined;
          throw error;
        });
      if (answer) {
        env.secrets.add(answer);
        headers["x-aliyun-ecs-metadata-token"] = answer;
      }
    }
    let role = opts.ecsRoleName ?? env.env.ALIBABA_CLOUD_ECS_METADATA;
    if (!role) {
      const url = `${base}/latest/meta-data/ram/security-credentials/`;
      const listed = await withRetries(() => textCall({ url, signal, what: `ECS metadata server ${url}`, env: env.env, secrets: env.secrets, headers }), { signal });
      role = listed.split("\n").map((line) => line.trim()).find((line) => line !== "");
      if (!role) throw fail(`ECS metadata server ${url} lists no RAM role`, "attach a RAM role to the instance, or configure another credential");
    }
    const url = `${base}/latest/meta-data/ram/security-credentials/${encodeURIComponent(role)}`;
    const what = `ECS metadata server ${url}`;
    const { json } = await withRetries(() => apiJson<Record<string, unknown>>({ url, signal, what, env: env.env, secrets: env.secrets, headers }), { signal });
    if (json?.Code !== undefined && json.Code !== "Success") throw fail(`${what} answered Code ${quotedCode(json.Code, env)}`);
    return temporaryCredentials(json ?? undefined, what, `ECS RAM role ${role}`, env);
  } catch (error) {
    throw fail.withHint(error, "check that the instance has a RAM role and can reach the metadata server (100.100.100.200)");
  }
}

/** A GET or PUT whose 2xx answer is plain text. */
async function textCall(request: Parameters<typeof httpRequest>[0]): Promise<string> {
  const answer = await httpRequest(request);
  if (answer.status < 200 || answer.status > 299) throw new HttpStatusError(request, answer, `answered HTTP ${answer.status}`);
  return answer.body.trim();
}

/** httpJson, with Alibaba's error body (Code, Message) in the reason. */
async function apiJson<T>(request: HttpRequest & { secrets: SecretSet }): Promise<{ json: T | null }> {
  const bounded = (text: string, max: number) => request.secrets.maskAndBound(text, max);
  try {
    const { json } = await httpJson<T>(request);
    return { json };
  } catch (error) {
    // Throttling and server errors stay HttpStatusErrors, so that withRetries tries again.
    if (error instanceof HttpStatusError && !error.retryable && typeof error.json === "object" && error.json !== null) {
      const { Code: code, Message: message } = error.json as Record<string, unknown>;
      if (typeof code === "string") {
        // Still the endpoint's answer, not this provider's verdict: the step's hint is added to it.
        const reason = `answered HTTP ${error.status}: ${bounded(code, 100)}${typeof message === "string" ? `: ${bounded(message, 200)}` : ""}`;
        throw new HttpStatusError(request, { status: error.status, headers: {}, body: "" }, reason);
      }
    }
    throw error;
  }
}

/** The credentials that sign the cr API calls for this request. */
async function credentialsFor(opts: Options, request: CredentialRequest, env: ProviderEnv, signal: AbortSignal): Promise<AlibabaCredentials> {
  const e = env.env;
  const roleArn = opts.roleArn ?? e.ALIBABA_CLOUD_ROLE_ARN;
  const providerArn = opts.oidcProviderArn ?? e.ALIBABA_CLOUD_OIDC_PROVIDER_ARN;
  if (request.serviceAccountToken) {
    const role = (opts.roleArnAnnotation && request.serviceAccountAnnotations?.[opts.roleArnAnnotation]) || roleArn;
    if (!role || !providerArn) {
      throw fail("service-account mode needs a RAM role (roleArnAnnotation on the service account, or roleArn) and oidcProviderArn",
        "set oidcProviderArn to the cluster's RRSA OIDC provider, and roleArn or roleArnAnnotation");
    }
    return assumeRoleWithOidc(opts, role, providerArn, request.serviceAccountToken, env, signal);
  }
  const tokenFile = opts.oidcTokenFile ?? e.ALIBABA_CLOUD_OIDC_TOKEN_FILE;
  const keyId = opts.accessKeyId ?? e.ALIBABA_CLOUD_ACCESS_KEY_ID;
  const credential = opts.credential ?? (roleArn && providerArn && tokenFile ? "rrsa" : keyId ? "accessKey" : "ecsRamRole");
  if (credential === "rrsa") {
    if (!roleArn || !providerArn || !tokenFile) throw fail("credential rrsa needs roleArn, oidcProviderArn and oidcTokenFile (or the ALIBABA_CLOUD_* variables)");
    const token = readSmallFile(path.resolve(env.configDir, tokenFile), "OIDC token file");
    env.secrets.add(token);
    return assumeRoleWithOidc(opts, roleArn, providerArn, token, env, signal);
  }
  if (credential === "accessKey") {
    const secret = opts.accessKeySecretFile ? readSmallFile(path.resolve(env.configDir, opts.accessKeySecretFile), "access key secret file") : e.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
    if (!keyId || !secret) throw fail("credential accessKey needs accessKeyId and accessKeySecretFile (or ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET)");
    env.secrets.add(secret);
    return { accessKeyId: keyId, accessKeySecret: secret, source: `access key ${keyId}` };
  }
  return ecsRoleCredentials(opts, env, signal);
}

/** An answer's Code for a message: masked, then bounded (a secret cut in two would no longer be found by the printed line's mask). */
function quotedCode(code: unknown, env: ProviderEnv): string {
  return JSON.stringify(env.secrets.maskAndBound(String(code), 80));
}

/** One signed cr API call. */
async function callApi<T>(call: { registry: AlibabaRegistry; method: string; path: string; query?: Record<string, string>; action: string; version: string },
  opts: Options, credentials: AlibabaCredentials, env: ProviderEnv, signal: AbortSignal): Promise<T> {
  const url = new URL((opts.apiEndpoint ?? DEFAULT_API).replaceAll("{region}", call.registry.region));
  url.pathname = call.path;
  for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
  const what = `cr ${call.action} (${call.version}) at ${url.origin}`;
  const { json } = await withRetries(() => {
    // Signed afresh for every attempt: the nonce must not repeat.
    const headers = signAcs3({
      method: call.method, url, action: call.action, version: call.version, body: "",
      headers: { accept: "application/json", "user-agent": USER_AGENT }, date: isoSeconds(env.now()), nonce: nonce(),
    }, credentials);
    return apiJson<T>({ url: url.href, method: call.method, signal, what, env: env.env, secrets: env.secrets, headers });
  }, { signal });
  if (json === null || typeof json !== "object") throw fail(`${what} answered something other than a JSON object`);
  return json;
}

interface Token {
  username: string;
  password: string;
  expiresAt: Date;
}

function readToken(username: unknown, password: unknown, expiresMs: unknown, what: string): Token {
  const expires = typeof expiresMs === "string" ? Number(expiresMs) : expiresMs;
  if (typeof username !== "string" || username === "" || typeof password !== "string" || password === "") {
    throw fail(`${what} answered without a temporary username and authorization token`);
  }
  if (typeof expires !== "number" || !Number.isFinite(expires) || expires <= 0) throw fail(`${what} answered without a valid expiry time`);
  return { username, password, expiresAt: new Date(expires) };
}

async function personalToken(registry: AlibabaRegistry, opts: Options, credentials: AlibabaCredentials, env: ProviderEnv, signal: AbortSignal): Promise<Token> {
  const answer = await callApi<{ data?: Record<string, unknown> }>({ registry, method: "GET", path: "/tokens", action: "GetAuthorizationToken", version: PERSONAL_API_VERSION }, opts, credentials, env, signal);
  const data = answer.data ?? {};
  return readToken(data.tempUserName, data.authorizationToken, data.expireDate, `cr GetAuthorizationToken (${PERSONAL_API_VERSION})`);
}

async function enterpriseInstanceId(registry: AlibabaRegistry, opts: Options, credentials: AlibabaCredentials, env: ProviderEnv, signal: AbortSignal): Promise<string> {
  if (registry.instanceId) return registry.instanceId;
  const name = registry.instanceName!;
  for (let page = 1; page <= MAX_INSTANCE_PAGES; page++) {
    const answer = await callApi<{ IsSuccess?: unknown; Code?: unknown; Instances?: unknown; TotalCount?: unknown }>({
      registry, method: "POST", path: "/", action: "ListInstance", version: ENTERPRISE_API_VERSION,
      query: { InstanceName: name, PageNo: String(page), PageSize: String(INSTANCE_PAGE_SIZE) },
    }, opts, credentials, env, signal);
    if (answer.IsSuccess !== true) throw fail(`cr ListInstance for "${name}" did not succeed (Code ${quotedCode(answer.Code ?? "none", env)})`);
    if (!Array.isArray(answer.Instances)) throw fail(`cr ListInstance for "${name}" answered without Instances`);
    const instances = answer.Instances as Array<Record<string, unknown>>;
    const found = instances.find((instance) => instance.InstanceName === name && (instance.RegionId === undefined || instance.RegionId === registry.region));
    if (found) {
      if (typeof found.InstanceId !== "string" || found.InstanceId === "") throw fail(`cr ListInstance for "${name}" answered an instance without InstanceId`);
      return found.InstanceId;
    }
    const total = Number(answer.TotalCount);
    if (instances.length < INSTANCE_PAGE_SIZE || !Number.isFinite(total) || page * INSTANCE_PAGE_SIZE >= total) break;
  }
  throw fail(`no Enterprise Edition instance named "${name}" in ${registry.region} for ${credentials.source}`,
    `check the instance name, or name it in the provider's instances: { "${registry.host}": { instanceId, region } }`);
}

async function enterpriseToken(registry: AlibabaRegistry, opts: Options, credentials: AlibabaCredentials, env: ProviderEnv, signal: AbortSignal): Promise<Token> {
  const instanceId = await enterpriseInstanceId(registry, opts, credentials, env, signal);
  const what = `cr GetAuthorizationToken (${ENTERPRISE_API_VERSION}) for ${instanceId}`;
  const answer = await callApi<Record<string, unknown>>({
    registry, method: "POST", path: "/", action: "GetAuthorizationToken", version: ENTERPRISE_API_VERSION, query: { InstanceId: instanceId },
  }, opts, credentials, env, signal);
  if (answer.IsSuccess !== true) throw fail(`${what} did not succeed (Code ${quotedCode(answer.Code ?? "none", env)})`);
  return readToken(answer.TempUsername, answer.AuthorizationToken, answer.ExpireTime, what);
}

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    credential: "What signs the API calls: `ecsRamRole`, `rrsa` or `accessKey`. Default: RRSA if configured, else an access key if configured, else the ECS RAM role.",
    ecsRoleName: "The instance's RAM role. Default `$ALIBABA_CLOUD_ECS_METADATA`, else the role the metadata server lists.",
    metadataEndpoint: "Default `http://100.100.100.200`.",
    metadataToken: "Ask the metadata server for a session token first (security-hardened mode). Default `true`.",
    roleArn: "RRSA: the RAM role to assume. Default `$ALIBABA_CLOUD_ROLE_ARN`.",
    oidcProviderArn: "RRSA: the cluster's OIDC provider. Default `$ALIBABA_CLOUD_OIDC_PROVIDER_ARN`.",
    oidcTokenFile: "RRSA: the OIDC token file; in service-account mode the kubelet's token is used instead. Default `$ALIBABA_CLOUD_OIDC_TOKEN_FILE`.",
    roleArnAnnotation: "Service-account mode: the service-account annotation naming the RAM role to assume (else `roleArn`).",
    stsEndpoint: "Default `https://sts.aliyuncs.com`.",
    accessKeyId: "Access key: its id. Default `$ALIBABA_CLOUD_ACCESS_KEY_ID`.",
    accessKeySecretFile: "Access key: a file holding its secret (there is no inline secret option). Default: `$ALIBABA_CLOUD_ACCESS_KEY_SECRET`.",
    apiEndpoint: "The `cr` API's URL, in which `{region}` stands for the registry's region. Default `https://cr.{region}.aliyuncs.com`.",
    instances: "Enterprise Edition instances by registry host: for custom domains, or to skip the ListInstance lookup.",
    "instances.*.instanceId": "The instance id (`cri-...`).",
    "instances.*.region": "The instance's region.",
  },
  options,
  defaultMatchImages: ALIBABA_DEFAULT_MATCH_IMAGES,
  create(opts, env) {
    return async (request, signal): Promise<ProviderResult> => {
      const registry = alibabaRegistry(request.registry, opts.instances);
      if (!registry) {
        throw fail(`${request.registry} is not an Alibaba Cloud Container Registry endpoint`,
          "list only ACR hosts in matchImages; for a custom domain of an Enterprise instance, name it in the provider's instances");
      }
      const credentials = await credentialsFor(opts, request, env, signal);
      let token: Token;
      try {
        token = registry.edition === "personal"
          ? await personalToken(registry, opts, credentials, env, signal)
          : await enterpriseToken(registry, opts, credentials, env, signal);
      } catch (error) {
        throw fail.withHint(error, `check that ${credentials.source} may call cr:GetAuthorizationToken${registry.edition === "enterprise" ? " and cr:ListInstance" : ""}`);
      }
      env.secrets.addCredential(token.username, token.password);
      env.log.debug("alibaba: registry token", { provider: env.name, registry: registry.host, edition: registry.edition, via: credentials.source, expiresAt: token.expiresAt.toISOString() });
      const auth = Object.fromEntries(registryWideKeys(request, env.matchImages).map((key) => [key, { username: token.username, password: token.password }]));
      return { auth, expiresAt: token.expiresAt };
    };
  },
});

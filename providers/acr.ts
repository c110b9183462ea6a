// Azure Container Registry: a Microsoft Entra (Azure AD) token for the registry audience, from the
// node's managed identity (IMDS), a service principal (secret file) or, in service-account mode,
// workload identity (the kubelet-supplied token as the client assertion); then the registry's own
// exchange (GET /v2/ for the challenge, POST /oauth2/exchange) for an ACR refresh token, which is
// what `docker login` with username 00000000-0000-0000-0000-000000000000 takes.
// Better than the upstream plugin (kubernetes-sigs/cloud-provider-azure acr-credential-provider):
// the refresh token's real expiry (its JWT exp) is the cache lifetime, not a fixed 60 minutes; the
// service principal's secret never leaves as a registry password; geo-replica and domain-name-label
// login servers are served; and a failure is an error, never an empty answer.
import fs from "node:fs";
import path from "node:path";
import * as z from "../src/provider-kit/schema.js";
import { httpJson, httpRequest, withRetries, HttpStatusError, type HttpResponse } from "../src/provider-kit/http-client.js";
import { decodeJwtClaims, jwtExpiry } from "../src/provider-kit/jwt.js";
import { keyWithinPatterns, matchImage } from "../src/match.js";
import { registryWideKeys } from "../src/provider-kit/registry-keys.js";
import { defineProvider, providerError, ProviderError, type CredentialRequest, type ProviderEnv, type ProviderResult } from "../src/provider.js";
import { ACR_CLOUDS, ACR_DEFAULT_MATCH_IMAGES, acrLoginServer, type AcrLoginServer } from "./acr-hosts.js";

const TYPE = "acr";
const fail = providerError(TYPE);
const DEFAULT_IMDS = "http://169.254.169.254/metadata/identity/oauth2/token";
const IMDS_API_VERSION = "2018-02-01";
const DEFAULT_SCOPE = "https://containerregistry.azure.net/.default";
const DEFAULT_CLIENT_ID_ANNOTATION = "kubernetes.azure.com/acr-client-id";
const DEFAULT_TENANT_ID_ANNOTATION = "kubernetes.azure.com/acr-tenant-id";
/** The username ACR takes with a refresh token as the password. */
export const ACR_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";
const USER_AGENT = "credmux acr";
const MAX_SECRET_FILE_BYTES = 64 * 1024;

const options = () => {
  const nonEmpty = z.string().check(z.minLength(1));
  const httpUrl = nonEmpty.check(z.refine((text) => /^https?:\/\/[^/]/.test(text) && URL.canParse(text), { message: "expected an http:// or https:// URL" }));

  return z.strictObject({
    /** The node's own identity: its managed identity (default) or a service principal. */
    credential: z.optional(z.enum(["managedIdentity", "servicePrincipal"])),
    /** A user-assigned managed identity's client id, or the service principal's application id. */
    clientId: z.optional(nonEmpty),
    /** A user-assigned managed identity by its ARM resource id (instead of clientId). */
    identityResourceId: z.optional(nonEmpty),
    /** The service principal's tenant; the default tenant for workload identity. */
    tenantId: z.optional(nonEmpty),
    /** A file holding the service principal's client secret (relative to the config file). */
    clientSecretFile: z.optional(nonEmpty),
    workloadIdentity: z.optional(z.strictObject({
      clientIdAnnotation: z.optional(nonEmpty),
      tenantIdAnnotation: z.optional(nonEmpty),
      /** Used when the service account lacks the annotation. */
      clientId: z.optional(nonEmpty),
      tenantId: z.optional(nonEmpty),
    })),
    /** Login-server DNS suffixes of custom clouds, such as "azurecr.my.cloud". */
    dnsSuffixes: z.optional(z.array(nonEmpty)),
    imdsEndpoint: z.optional(httpUrl),
    /** The Entra authority; default $AZURE_AUTHORITY_HOST, else the cloud the login server's suffix names. */
    authorityHost: z.optional(httpUrl),
    scope: z.optional(nonEmpty),
    /**
     * Where the registry's /v2/ and exchange are reached, for tests and air-gapped networks: a URL
     * in which {registry} stands for the login server. Default "https://{registry}".
     */
    registryEndpoint: z.optional(nonEmpty.check(z.refine((text) => URL.canParse(text.replaceAll("{registry}", "registry.invalid")) && /^https?:\/\//.test(text), {
      message: "expected an http:// or https:// URL, in which {registry} stands for the login server",
    }))),
  }).check(z.refine((o) => o.credential !== "servicePrincipal" || (o.clientId !== undefined && o.tenantId !== undefined && o.clientSecretFile !== undefined), {
    message: "credential servicePrincipal needs clientId, tenantId and clientSecretFile",
  }));
};
type Options = z.infer<ReturnType<typeof options>>;

/** An Entra access token, and the tenant it is for when known. */
interface AadToken {
  token: string;
  tenant?: string;
}

/** How the Entra token was obtained, for messages. */
type Identity = "managed identity" | "service principal" | "workload identity";

function readSecretFile(file: string): string {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw fail(`${file}: not a regular file`);
    if (stat.size > MAX_SECRET_FILE_BYTES) throw fail(`${file}: ${stat.size} bytes, larger than a client secret can be`);
    text = fs.readFileSync(file, "utf8").trim();
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    throw fail(`cannot read the client secret file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      "check the file's path, owner and mode: the kubelet runs credmux as its own user");
  }
  if (text === "") throw fail(`the client secret file ${file} is empty`);
  return text;
}

interface TokenAnswer {
  access_token?: unknown;
}

function accessTokenOf(json: TokenAnswer | null, what: string): string {
  const token = json?.access_token;
  if (typeof token !== "string" || token === "") throw fail(`${what} answered without an access_token`);
  return token;
}

/** The tenant of an Entra access token (its tid claim), for the registry exchange. */
function tenantOf(token: string): string | undefined {
  const tid = decodeJwtClaims(token)?.tid;
  return typeof tid === "string" && tid !== "" ? tid : undefined;
}

async function managedIdentityToken(opts: Options, scope: string, env: ProviderEnv, signal: AbortSignal): Promise<AadToken> {
  const url = new URL(opts.imdsEndpoint ?? DEFAULT_IMDS);
  url.searchParams.set("api-version", IMDS_API_VERSION);
  // IMDS takes the v1 resource, not a v2 scope.
  url.searchParams.set("resource", scope.replace(/\/\.default$/, ""));
  if (opts.clientId) url.searchParams.set("client_id", opts.clientId);
  else if (opts.identityResourceId) url.searchParams.set("msi_res_id", opts.identityResourceId);
  const what = `managed identity endpoint ${url.origin}${url.pathname}`;
  try {
    const { json } = await withRetries(() => httpJson<TokenAnswer>({ url: url.href, signal, what, env: env.env, secrets: env.secrets, headers: { metadata: "true", "user-agent": USER_AGENT } }), { signal });
    const token = accessTokenOf(json, what);
    env.secrets.add(token);
    return { token, ...withTenant(tenantOf(token)) };
  } catch (error) {
    throw fail.withHint(error, "check that the node has a managed identity (clientId or identityResourceId for a user-assigned one) and can reach IMDS");
  }
}

function withTenant(tenant: string | undefined): { tenant?: string } {
  return tenant ? { tenant } : {};
}

/** Client-credentials grant at the Entra token endpoint, with a secret or a client assertion. */
async function entraToken(authority: string, tenant: string, form: Record<string, string>, identity: Identity, env: ProviderEnv, signal: AbortSignal): Promise<AadToken> {
  const url = `${authority.replace(/\/+$/, "")}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`;
  const what = `Entra token endpoint ${url}`;
  const body = new URLSearchParams({ ...form, grant_type: "client_credentials" }).toString();
  try {
    const { json } = await withRetries(() => httpJson<TokenAnswer>({
      url, method: "POST", body, signal, what, env: env.env, secrets: env.secrets,
      headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": USER_AGENT },
    }), { signal });
    const token = accessTokenOf(json, what);
    env.secrets.add(token);
    return { token, tenant };
  } catch (error) {
    throw fail.withHint(error, identity === "workload identity"
      ? "check the identity's federated credential (issuer, subject system:serviceaccount:NAMESPACE:NAME, audience) and the client and tenant ids"
      : "check the service principal's client id, tenant id and secret");
  }
}

function authorityFor(opts: Options, env: ProviderEnv, server: AcrLoginServer): string {
  return opts.authorityHost ?? env.env.AZURE_AUTHORITY_HOST ?? server.cloud?.authorityHost ?? ACR_CLOUDS[0]!.authorityHost;
}

async function aadToken(opts: Options, request: CredentialRequest, server: AcrLoginServer, env: ProviderEnv, signal: AbortSignal): Promise<{ aad: AadToken; identity: Identity }> {
  const scope = opts.scope ?? DEFAULT_SCOPE;
  if (request.serviceAccountToken) {
    const wi = opts.workloadIdentity ?? {};
    const clientKey = wi.clientIdAnnotation ?? DEFAULT_CLIENT_ID_ANNOTATION;
    const tenantKey = wi.tenantIdAnnotation ?? DEFAULT_TENANT_ID_ANNOTATION;
    const annotations = request.serviceAccountAnnotations ?? {};
    const clientId = annotations[clientKey] || wi.clientId;
    const tenantId = annotations[tenantKey] || wi.tenantId || opts.tenantId;
    // The same words as upstream, which operators already search for.
    if (!clientId) throw fail(`client id annotation ${clientKey} is not found or the value is empty`, `annotate the service account, list ${clientKey} in tokenAttributes, or set workloadIdentity.clientId`);
    if (!tenantId) throw fail(`tenant id annotation ${tenantKey} is not found or the value is empty`, `annotate the service account, list ${tenantKey} in tokenAttributes, or set workloadIdentity.tenantId`);
    const aad = await entraToken(authorityFor(opts, env, server), tenantId, {
      client_id: clientId,
      scope,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: request.serviceAccountToken,
    }, "workload identity", env, signal);
    return { aad, identity: "workload identity" };
  }
  if (opts.credential === "servicePrincipal") {
    const secret = readSecretFile(path.resolve(env.configDir, opts.clientSecretFile!));
    env.secrets.add(secret);
    const aad = await entraToken(authorityFor(opts, env, server), opts.tenantId!, { client_id: opts.clientId!, client_secret: secret, scope }, "service principal", env, signal);
    return { aad, identity: "service principal" };
  }
  return { aad: await managedIdentityToken(opts, scope, env, signal), identity: "managed identity" };
}

/** The parameters of a `Bearer k="v", k=v` challenge; undefined when the header is not one. */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const match = /^\s*bearer\s+(.*)$/i.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  const rest = match[1]!;
  const pair = /\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))\s*(,|$)/y;
  let at = 0;
  while (at < rest.length) {
    pair.lastIndex = at;
    const found = pair.exec(rest);
    if (!found) return undefined;
    params[found[1]!.toLowerCase()] = found[2] !== undefined ? found[2].replace(/\\(.)/g, "$1") : found[3]!;
    at = pair.lastIndex;
  }
  return params;
}

/** Where the registry's endpoints are reached: the login server, unless registryEndpoint says otherwise. */
function registryBase(opts: Options, server: AcrLoginServer): URL {
  return new URL((opts.registryEndpoint ?? "https://{registry}").replaceAll("{registry}", server.host));
}

async function challenge(base: URL, server: AcrLoginServer, env: ProviderEnv, signal: AbortSignal): Promise<{ realm: URL; service: string }> {
  // Any path of registryEndpoint is kept: an air-gapped proxy may serve several registries by path.
  const url = `${base.href.replace(/\/+$/, "")}/v2/`;
  const what = `registry ${server.host} (${url})`;
  const response = await withRetries(async () => {
    const answer = await httpRequest({ url, signal, what, env: env.env, secrets: env.secrets, headers: { "user-agent": USER_AGENT } });
    if (answer.status === 429 || answer.status >= 500) throw new HttpStatusError({ url, signal, what }, answer, `answered HTTP ${answer.status}`);
    return answer;
  }, { signal });
  const header = challengeHeader(response);
  if (response.status !== 401 || header === undefined) {
    throw fail(`${what} did not issue a valid Azure AD challenge (HTTP ${response.status}${header === undefined ? ", no single WWW-Authenticate header" : ""})`,
      "check that the host is an Azure Container Registry login server");
  }
  const params = parseBearerChallenge(header);
  if (!params) throw fail(`${what} answered a WWW-Authenticate header that is not a Bearer challenge`);
  if (!params.realm) throw fail(`${what}: WWW-Authenticate has no realm`);
  if (!params.service) throw fail(`${what}: WWW-Authenticate has no service`);
  let realm: URL;
  try {
    realm = new URL(params.realm);
  } catch {
    throw fail(`${what}: WWW-Authenticate realm is not a URL`);
  }
  return { realm, service: params.service };
}

function challengeHeader(response: HttpResponse): string | undefined {
  const value = response.headers["www-authenticate"];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

/** The exchange receives the Entra token: only the registry itself, or another ACR login server, may. */
function checkRealm(realm: URL, base: URL, server: AcrLoginServer, opts: Options): void {
  if (realm.origin === base.origin) return;
  if (realm.protocol === "https:" && realm.port === "" && acrLoginServer(realm.hostname, opts.dnsSuffixes)) return;
  throw fail(`registry ${server.host} named ${realm.origin} as its token realm, which is neither the registry nor an ACR login server; refused to send it a token`,
    "check for a proxy or DNS entry that answers in the registry's place");
}

async function exchange(realm: URL, service: string, aad: AadToken, server: AcrLoginServer, env: ProviderEnv, signal: AbortSignal): Promise<string> {
  const url = `${realm.origin}/oauth2/exchange`;
  const what = `ACR token exchange ${url}`;
  const form: Record<string, string> = {
    grant_type: "access_token_refresh_token",
    service,
    ...(aad.tenant ? { tenant: aad.tenant } : {}),
    access_token: aad.token,
    refresh_token: aad.token,
  };
  const { json } = await withRetries(() => httpJson<{ refresh_token?: unknown }>({
    url, method: "POST", body: new URLSearchParams(form).toString(), signal, what, env: env.env, secrets: env.secrets,
    headers: { "content-type": "application/x-www-form-urlencoded", "user-agent": USER_AGENT },
  }), { signal });
  const refresh = json?.refresh_token;
  if (typeof refresh !== "string" || refresh === "") throw fail(`${what} answered without a refresh_token`);
  env.secrets.add(refresh);
  return refresh;
}

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    credential: "The node's own identity: `managedIdentity` (default) or `servicePrincipal` (needs `clientId`, `tenantId` and `clientSecretFile`).",
    clientId: "A user-assigned managed identity's client id, or the service principal's application id.",
    identityResourceId: "A user-assigned managed identity by its ARM resource id (instead of `clientId`).",
    tenantId: "The service principal's tenant; also workload identity's default tenant.",
    clientSecretFile: "A file holding the service principal's client secret; relative to the config file.",
    workloadIdentity: "Workload identity: the pod's service-account token is exchanged for an Entra token of the client the service account names (needs `tokenAttributes`).",
    "workloadIdentity.clientIdAnnotation": "The service-account annotation naming the client. Default `kubernetes.azure.com/acr-client-id`.",
    "workloadIdentity.tenantIdAnnotation": "The service-account annotation naming the tenant. Default `kubernetes.azure.com/acr-tenant-id`.",
    "workloadIdentity.clientId": "Used when the service account lacks the annotation.",
    "workloadIdentity.tenantId": "Used when the service account lacks the annotation (else `tenantId`).",
    dnsSuffixes: "Login-server DNS suffixes of custom clouds, such as `azurecr.my.cloud`.",
    imdsEndpoint: "The managed-identity endpoint. Default `http://169.254.169.254/metadata/identity/oauth2/token`.",
    authorityHost: "The Entra authority. Default `$AZURE_AUTHORITY_HOST`, else that of the cloud the login server's suffix names.",
    scope: "Default `https://containerregistry.azure.net/.default`.",
    registryEndpoint: "Where the registry's `/v2/` and `/oauth2/exchange` are reached, for tests and air-gapped proxies: a URL in which `{registry}` stands for the login server. Default `https://{registry}`.",
  },
  options,
  defaultMatchImages: ACR_DEFAULT_MATCH_IMAGES,
  create(opts, env) {
    return async (request, signal): Promise<ProviderResult> => {
      const server = acrLoginServer(request.registry, opts.dnsSuffixes);
      if (!server) {
        throw fail(`${request.registry} is not an Azure Container Registry login server`,
          "list only ACR login servers in matchImages; for a custom cloud, add its suffix to dnsSuffixes");
      }
      const { aad, identity } = await aadToken(opts, request, server, env, signal);
      const base = registryBase(opts, server);
      let refresh: string;
      try {
        const { realm, service } = await challenge(base, server, env, signal);
        checkRealm(realm, base, server, opts);
        refresh = await exchange(realm, service, aad, server, env, signal);
      } catch (error) {
        throw fail.withHint(error, `check that the ${identity} has a pull role (AcrPull) on ${server.host}`);
      }
      const expiresAt = jwtExpiry(refresh);
      env.log.debug("acr: refresh token", { provider: env.name, registry: server.host, via: identity, expiresAt: expiresAt?.toISOString() });
      if (!expiresAt) env.log.warn("the ACR refresh token carries no expiry; using defaults.cacheDuration", { provider: env.name, registry: server.host });
      return {
        auth: Object.fromEntries(registryWideKeys(request, env.matchImages).map((key) => [key, { username: ACR_TOKEN_USERNAME, password: refresh }])),
        ...(expiresAt ? { expiresAt } : {}),
      };
    };
  },
});

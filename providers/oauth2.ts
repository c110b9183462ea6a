// An OAuth 2.0 token endpoint whose access token is the registry password: the client-credentials
// grant (RFC 6749 section 4.4) for a node-wide robot, or the token-exchange grant (RFC 8693) that
// trades the pod's service-account token (kubelet service-account mode) or a token file for a
// registry token, as identity providers in front of Harbor, JFrog, Quay or Cloudsmith do.
// `expires_in` is the expiry; the endpoint's `error` and `error_description` reach the operator as
// they are, with every secret masked where credmux prints them.
import path from "node:path";
import * as z from "../src/provider-kit/schema.js";
import { httpJson, HttpStatusError, withRetries } from "../src/provider-kit/http-client.js";
import { jwtExpiry } from "../src/provider-kit/jwt.js";
import { optionRule } from "../src/provider-kit/option-rule.js";
import { defineProvider, providerError, type ProviderEnv } from "../src/provider.js";
import { readSecretFile } from "../src/provider-kit/secret-file.js";

const TYPE = "oauth2";
const fail = providerError(TYPE);

/** RFC 8693's grant_type value. */
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";

/** What to check for each standard error code (RFC 6749 5.2, RFC 8693 2.2.2). */
const ERROR_HINTS: Readonly<Record<string, string>> = {
  invalid_client: "check clientId, clientSecretFile and clientAuth against the client registered at the identity provider",
  invalid_grant: "the identity provider refused the grant: check the subject token (its audience is tokenAttributes.serviceAccountTokenAudience) and the trust configured for its issuer",
  unauthorized_client: "the client may not use this grant type; check the client's settings at the identity provider",
  unsupported_grant_type: "the endpoint does not support this grant; check grant and tokenUrl",
  invalid_scope: "check scope",
  invalid_target: "check audience and resource",
  invalid_request: "check the provider's options against what the endpoint expects",
};

const options = () => {
  const stringOrList = z.union([z.string().check(z.minLength(1)), z.array(z.string().check(z.minLength(1))).check(z.minLength(1))]);

  return z.strictObject({
    /** The token endpoint (http or https). */
    tokenUrl: z.string().check(z.refine((text) => /^https?:\/\/[^/]/.test(text) && URL.canParse(text), { message: "expected an http:// or https:// URL" })),
    grant: z.enum(["client_credentials", "token_exchange"]),
    /** The registry username that goes with the access token. */
    username: z.string().check(z.minLength(1)),
    clientId: z.optional(z.string().check(z.minLength(1))),
    /** A file holding the client secret; relative to the config file. */
    clientSecretFile: z.optional(z.string().check(z.minLength(1))),
    /** How the client authenticates: HTTP Basic (RFC 6749 2.3.1, the default) or client_id/client_secret in the form. */
    clientAuth: z.optional(z.enum(["basic", "body"])),
    audience: z.optional(stringOrList),
    scope: z.optional(stringOrList),
    resource: z.optional(stringOrList),
    /** token_exchange: the subject token's file; without it, the kubelet's service-account token. */
    subjectTokenFile: z.optional(z.string().check(z.minLength(1))),
    subjectTokenType: z.optional(z.string().check(z.minLength(1))),
    requestedTokenType: z.optional(z.string().check(z.minLength(1))),
    /** PEM CA bundle to trust for an https endpoint, instead of the system's; relative to the config file. */
    caFile: z.optional(z.string().check(z.minLength(1))),
  }).check(
    optionRule((value) => value.grant !== "client_credentials" || value.clientId !== undefined,
      "missing: grant client_credentials needs clientId (and usually clientSecretFile)", ["clientId"]),
    optionRule((value) => value.clientSecretFile === undefined || value.clientId !== undefined,
      "missing: clientSecretFile needs clientId", ["clientId"]),
    optionRule((value) => value.grant === "token_exchange" || (value.subjectTokenFile === undefined && value.subjectTokenType === undefined && value.requestedTokenType === undefined),
      "subjectTokenFile, subjectTokenType and requestedTokenType belong to grant token_exchange"),
  );
};
type Options = z.infer<ReturnType<typeof options>>;

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
  token_type?: unknown;
  issued_token_type?: unknown;
}

/** The form fields of the token request (without client authentication), in a stable order. */
export function tokenRequestForm(opts: Options, subjectToken: string | undefined): URLSearchParams {
  const form = new URLSearchParams();
  if (opts.grant === "client_credentials") {
    form.append("grant_type", "client_credentials");
  } else {
    form.append("grant_type", TOKEN_EXCHANGE_GRANT);
    form.append("subject_token", subjectToken!);
    form.append("subject_token_type", opts.subjectTokenType ?? JWT_TOKEN_TYPE);
    if (opts.requestedTokenType) form.append("requested_token_type", opts.requestedTokenType);
  }
  // RFC 8693 allows several audience and resource parameters; scope is one space-separated list.
  for (const audience of list(opts.audience)) form.append("audience", audience);
  for (const resource of list(opts.resource)) form.append("resource", resource);
  if (opts.scope !== undefined) form.append("scope", list(opts.scope).join(" "));
  return form;
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : typeof value === "string" ? [value] : value;
}

/** RFC 6749 2.3.1: client id and secret are form-encoded before they are joined for HTTP Basic. */
function basicCredentials(clientId: string, secret: string): string {
  const encode = (text: string) => new URLSearchParams({ v: text }).toString().slice(2);
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString("base64")}`;
}

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    tokenUrl: "The token endpoint (http or https).",
    grant: "`client_credentials` (RFC 6749) or `token_exchange` (RFC 8693).",
    username: "The registry username that goes with the access token.",
    clientId: "The client id; required for `client_credentials` and with `clientSecretFile`.",
    clientSecretFile: "A file holding the client secret; relative to the config file.",
    clientAuth: "How the client authenticates: `basic` (HTTP Basic, RFC 6749 2.3.1, the default) or `body` (client_id and client_secret in the form).",
    audience: "One or more `audience` parameters.",
    scope: "One or more scopes, sent space-separated.",
    resource: "One or more `resource` parameters.",
    subjectTokenFile: "`token_exchange`: the subject token's file; without it, the kubelet's service-account token (needs `tokenAttributes`).",
    subjectTokenType: "`token_exchange`: default `urn:ietf:params:oauth:token-type:jwt`.",
    requestedTokenType: "`token_exchange`: sent when set.",
    caFile: "A PEM CA bundle to trust for an https endpoint instead of the system's; relative to the config file. Proxies come from `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`.",
  },
  options,
  // Cached: every exec would otherwise call the identity provider, and expires_in says how long
  // the token lives. In service-account mode the cache keys by the service account or token.
  cacheable: true,
  create(opts, env) {
    const resolve = (file: string | undefined) => (file === undefined ? undefined : path.resolve(env.configDir, file));
    const secretFile = resolve(opts.clientSecretFile);
    const subjectTokenFile = resolve(opts.subjectTokenFile);
    const caFile = resolve(opts.caFile);
    const what = `token endpoint ${safeUrl(opts.tokenUrl)}`;
    return async (request, signal) => {
      let subjectToken: string | undefined;
      if (opts.grant === "token_exchange") {
        subjectToken = subjectTokenFile ? readSecretFile(fail, "subjectTokenFile", subjectTokenFile) : request.serviceAccountToken;
        if (subjectToken === undefined) {
          throw fail(`grant token_exchange has no subject token: the request carries no service-account token and subjectTokenFile is not set`,
            "give this provider tokenAttributes (and the kubelet's config the same) so that the kubelet sends the pod's service-account token, or set subjectTokenFile");
        }
        env.secrets.add(subjectToken);
      }
      const form = tokenRequestForm(opts, subjectToken);
      const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
      if (opts.clientId !== undefined) {
        const secret = secretFile ? readSecretFile(fail, "clientSecretFile", secretFile) : undefined;
        // The secret set masks the forms sent below too: the Basic header's base64 and the form body's encoding.
        if (secret !== undefined) env.secrets.addCredential(opts.clientId, secret);
        if ((opts.clientAuth ?? "basic") === "basic" && secret !== undefined) {
          headers.authorization = basicCredentials(opts.clientId, secret);
        } else {
          form.append("client_id", opts.clientId);
          if (secret !== undefined) form.append("client_secret", secret);
        }
      }
      const answer = await withRetries(() => post(what, opts.tokenUrl, form, headers, caFile, signal, env), { signal });
      return toResult(answer, opts, request.registry, what, env);
    };
  },
});

async function post(what: string, url: string, form: URLSearchParams, headers: Record<string, string>, caFile: string | undefined, signal: AbortSignal, env: ProviderEnv): Promise<TokenAnswer> {
  try {
    const { json } = await httpJson<TokenAnswer>({
      url, method: "POST", headers, body: form.toString(), signal, what, env: env.env, secrets: env.secrets, ...(caFile ? { caFile } : {}),
    });
    return json;
  } catch (error) {
    // Add what to check for the standard OAuth error codes; the message already quotes the endpoint's words.
    if (error instanceof HttpStatusError && !error.retryable) {
      const code = (error.json as { error?: unknown } | undefined)?.error;
      const hint = typeof code === "string" ? ERROR_HINTS[code] : undefined;
      if (hint) throw fail(error.message, hint, { cause: error });
    }
    throw error;
  }
}

function toResult(answer: TokenAnswer, opts: Options, registry: string, what: string, env: ProviderEnv) {
  if (typeof answer !== "object" || answer === null || Array.isArray(answer)) throw fail(`${what} answered JSON that is not an object`);
  const token = answer.access_token;
  if (typeof token !== "string" || token === "") {
    throw fail(`${what} answered without an access_token`, "the endpoint answered 2xx but gave no token; check grant and the endpoint's logs");
  }
  env.secrets.addCredential(opts.username, token);
  let expiresAt: Date | undefined;
  const expiresIn = typeof answer.expires_in === "string" ? Number(answer.expires_in) : answer.expires_in;
  if (typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0) {
    expiresAt = new Date(env.now() + expiresIn * 1000);
  } else if (answer.expires_in !== undefined) {
    throw fail(`${what} answered an expires_in that is not a positive number of seconds`);
  } else {
    // RFC 6749 makes expires_in optional; a JWT access token still says when it ends.
    expiresAt = jwtExpiry(token);
  }
  return { auth: { [registry]: { username: opts.username, password: token } }, ...(expiresAt ? { expiresAt } : {}) };
}

/** The URL as printed: without userinfo or query, which may carry secrets. */
function safeUrl(text: string): string {
  const url = new URL(text);
  return `${url.protocol}//${url.host}${url.pathname}`;
}

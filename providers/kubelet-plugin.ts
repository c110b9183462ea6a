// Another kubelet credential provider binary (the vendor's ecr-credential-provider,
// auth-provider-gcp, acr-credential-provider, or any other), run as the kubelet would run it: its
// own args, the environment plus its own env entries, one CredentialProviderRequest in the
// apiVersion it is configured for, and its response decoded as strictly as the kubelet decodes it.
// Its answer is merged like any provider's, with its cacheDuration and cacheKeyType kept.
import path from "node:path";
import * as z from "../src/provider-kit/schema.js";
import { childEnvironment, describeExit, lastLine, runChild } from "../src/provider-kit/child-process.js";
import { parseGoDuration } from "../src/duration.js";
import { API_GROUP, API_VERSIONS, type ApiVersion, type AuthEntry, type CacheKeyType } from "../src/protocol.js";
import { defineProvider, providerError, type CredentialRequest, type ProviderError, type ProviderResult } from "../src/provider.js";

const TYPE = "kubelet-plugin";
const fail = providerError(TYPE);
const V1: ApiVersion = `${API_GROUP}/v1`;
const CACHE_KEY_TYPES: readonly CacheKeyType[] = ["Image", "Registry", "Global"];
const RESPONSE_FIELDS = new Set(["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"]);

/** The request as the kubelet writes it (protocol 1.2): Go's field order and escaping, service-account fields in v1 only. */
export function encodePluginRequest(request: CredentialRequest, apiVersion: ApiVersion): string {
  const body: Record<string, unknown> = { kind: "CredentialProviderRequest", apiVersion, image: request.image };
  if (apiVersion === V1) {
    if (request.serviceAccountToken) body.serviceAccountToken = request.serviceAccountToken;
    const annotations = request.serviceAccountAnnotations;
    if (annotations && Object.keys(annotations).length > 0) {
      body.serviceAccountAnnotations = Object.fromEntries(Object.keys(annotations).sort().map((key) => [key, annotations[key]]));
    }
  }
  return `${JSON.stringify(body).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n`;
}

/** Decodes the plugin's stdout as the kubelet does (protocol 1.8): same apiVersion, known fields only, a valid cacheKeyType. */
export function decodePluginResponse(stdout: string, apiVersion: ApiVersion, what: string): ProviderResult {
  const rejected = (reason: string) => fail(`${what}: ${reason}`, "the kubelet would reject this response too; check the plugin's version and apiVersion");
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    throw rejected(stdout.trim() === "" ? "printed nothing on stdout" : `printed ${stdout.length} characters on stdout that are not one JSON document`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw rejected("printed JSON that is not an object");
  const body = parsed as Record<string, unknown>;
  const unknown = Object.keys(body).filter((key) => !RESPONSE_FIELDS.has(key));
  if (unknown.length > 0) throw rejected(`response has unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}`);
  if (body.kind !== "CredentialProviderResponse") throw rejected(`response kind is ${JSON.stringify(body.kind ?? null)}, expected "CredentialProviderResponse"`);
  if (body.apiVersion !== apiVersion) throw rejected(`response apiVersion is ${JSON.stringify(body.apiVersion ?? null)}, expected ${JSON.stringify(apiVersion)} as configured`);
  if (!CACHE_KEY_TYPES.includes(body.cacheKeyType as CacheKeyType)) {
    throw rejected(`response cacheKeyType is ${JSON.stringify(body.cacheKeyType ?? null)}, expected one of ${CACHE_KEY_TYPES.join(", ")}`);
  }
  const result: ProviderResult = { auth: {}, cacheKeyType: body.cacheKeyType as CacheKeyType };
  if (body.cacheDuration !== undefined && body.cacheDuration !== null) {
    const ms = typeof body.cacheDuration === "string" ? parseGoDuration(body.cacheDuration) : undefined;
    if (ms === undefined) throw rejected(`response cacheDuration ${JSON.stringify(body.cacheDuration)} is not a Go duration string`);
    result.cacheDurationMs = Math.max(0, ms);
  }
  if (body.auth !== undefined && body.auth !== null) {
    if (typeof body.auth !== "object" || Array.isArray(body.auth)) throw rejected("response auth is not an object");
    for (const [key, entry] of Object.entries(body.auth as Record<string, unknown>)) {
      result.auth[key] = decodeAuthEntry(key, entry, rejected);
    }
  }
  return result;
}

function decodeAuthEntry(key: string, entry: unknown, rejected: (reason: string) => ProviderError): AuthEntry {
  const at = `response auth[${JSON.stringify(key)}]`;
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw rejected(`${at} is not an object`);
  const fields = entry as Record<string, unknown>;
  const unknown = Object.keys(fields).filter((field) => field !== "username" && field !== "password");
  if (unknown.length > 0) throw rejected(`${at} has unknown field${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k)).join(", ")}`);
  for (const field of ["username", "password"] as const) {
    if (fields[field] !== undefined && typeof fields[field] !== "string") throw rejected(`${at}.${field} is not a string`);
  }
  return { username: (fields.username as string | undefined) ?? "", password: (fields.password as string | undefined) ?? "" };
}

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    command: "Another kubelet credential provider (a vendor's ECR, GCP or ACR plugin): a path, relative to the config file, or a name found on the PATH.",
    args: "Its arguments.",
    env: "Added to its environment after credmux's own, as the kubelet's config does.",
    "env[].name": "The variable's name.",
    "env[].value": "Its value.",
    apiVersion: "The protocol version the plugin speaks, as in the kubelet's config. Default `credentialprovider.kubelet.k8s.io/v1`.",
    defaultCacheDuration: "The lifetime of an answer without `cacheDuration`, as the kubelet's `defaultCacheDuration`; a Go duration.",
  },
  options: () => {
    const envVar = z.strictObject({ name: z.string().check(z.minLength(1)), value: z.string() });

    return z.strictObject({
      /** The plugin: a path (relative to the config file) or a name found on the PATH. */
      command: z.string().check(z.minLength(1)),
      args: z.optional(z.array(z.string())),
      /** Added to the plugin's environment after credmux's own, as the kubelet's config does. */
      env: z.optional(z.array(envVar)),
      /** The apiVersion the plugin speaks, as in the kubelet's CredentialProviderConfig; default v1. */
      apiVersion: z.optional(z.enum(API_VERSIONS)),
      /** The lifetime of an answer without cacheDuration, as the kubelet's defaultCacheDuration. */
      defaultCacheDuration: z.optional(z.string().check(z.refine((text) => (parseGoDuration(text) ?? -1) >= 0, {
        message: 'expected a Go duration such as "0s", "5m" or "12h"',
      }))),
    });
  },
  // Cached: a vendor plugin may call its cloud on every exec, and it says itself how long its
  // answer lives (cacheDuration, "0s" for never), which the cache and the kubelet both respect.
  cacheable: true,
  create(opts, env) {
    const command = opts.command.includes("/") ? path.resolve(env.configDir, opts.command) : opts.command;
    const apiVersion = opts.apiVersion ?? V1;
    const what = command;
    const defaultCacheDurationMs = opts.defaultCacheDuration === undefined ? undefined : parseGoDuration(opts.defaultCacheDuration)!;
    return async (request, signal) => {
      if (request.serviceAccountToken && apiVersion !== V1) {
        env.log.warn("the chained plugin speaks an apiVersion without service-account fields; it gets the image only", { plugin: command, apiVersion });
      }
      const childEnv = childEnvironment(env.env, opts.env, env.secrets);
      const run = await runChild({ command, args: opts.args ?? [], env: childEnv, stdin: encodePluginRequest(request, apiVersion), signal, what });
      if (run.status !== 0) {
        // The kubelet appends the plugin's stderr to its error the same way; credmux masks known secrets in it.
        const message = lastLine(run.stderr, env.secrets);
        throw fail(`${what} ${describeExit(run)} for ${request.image}${message ? `: ${message}` : ""}`,
          "run the plugin by hand with the same request to see why");
      }
      const result = decodePluginResponse(run.stdout, apiVersion, what);
      for (const entry of Object.values(result.auth)) env.secrets.addCredential(entry.username, entry.password);
      if (result.cacheDurationMs === undefined && defaultCacheDurationMs !== undefined) result.cacheDurationMs = defaultCacheDurationMs;
      return result;
    };
  },
});

// Google Container Registry and Artifact Registry: an OAuth access token of the node's service
// account from the metadata server, or, for a service account that opts in, a federated token from
// Google's STS for the kubelet-supplied service-account token (workload identity, KEP-4412).
// Where the upstream plugin (kubernetes/cloud-provider-gcp auth-provider-gcp) falls short, this one
// does not: the token's expires_in becomes the cache lifetime (upstream answers cacheDuration 0, so
// the kubelet never caches), and any failure is an error (upstream answers an empty auth map with
// exit 0, and the pull goes on anonymously to a 401).
import * as z from "../src/provider-kit/schema.js";
import { httpJson, withRetries, HttpStatusError } from "../src/provider-kit/http-client.js";
import { keyWithinPatterns, matchImage } from "../src/match.js";
import { defineProvider, providerError, type CredentialRequest, type ProviderEnv, type ProviderResult } from "../src/provider.js";

const TYPE = "gcp";
const fail = providerError(TYPE);
/** The metadata server by address, as Google's client libraries do: no DNS lookup that could hang. */
const DEFAULT_METADATA = "http://169.254.169.254/computeMetadata/v1";
const DEFAULT_STS = "https://sts.googleapis.com/v1/token";
const DEFAULT_OPT_IN_ANNOTATION = "iam.gke.io/enable-wi-image-pull";
const CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform";
const USER_AGENT = "credmux gcp image pull";
/** The username Google documents for an OAuth access token as a registry password. */
const USERNAME = "oauth2accesstoken";
/** The registries Google's tokens are for (upstream's containerRegistryUrls), besides the image's own; the default matchImages. */
export const GCP_REGISTRY_KEYS: readonly string[] = ["container.cloud.google.com", "gcr.io", "*.gcr.io", "*.pkg.dev"];

const options = () => {
  const nonEmpty = z.string().check(z.minLength(1));
  const httpUrl = nonEmpty.check(z.refine((text) => /^https?:\/\/[^/]/.test(text) && URL.canParse(text), { message: "expected an http:// or https:// URL" }));

  const workloadIdentity = z.strictObject({
    /** The STS audience verbatim; or built from projectId + identityProvider (GKE), or projectNumber + poolId + providerId. */
    audience: z.optional(nonEmpty),
    projectId: z.optional(nonEmpty),
    identityProvider: z.optional(nonEmpty),
    projectNumber: z.optional(nonEmpty),
    poolId: z.optional(nonEmpty),
    providerId: z.optional(nonEmpty),
    /** The service-account annotation whose value "true" opts a service account in. */
    annotation: z.optional(nonEmpty),
    stsEndpoint: z.optional(httpUrl),
    scope: z.optional(nonEmpty),
  }).check(z.refine((wi) => stsAudience(wi) !== undefined, {
    message: "expected audience, or projectId and identityProvider, or projectNumber, poolId and providerId",
  }));

  return z.strictObject({
    /** The instance's service account whose token is used: "default" or its email. */
    serviceAccount: z.optional(nonEmpty),
    /** The metadata server's base URL; default $GCE_METADATA_HOST, else 169.254.169.254. */
    metadataEndpoint: z.optional(httpUrl),
    workloadIdentity: z.optional(workloadIdentity),
  });
};
type Options = z.infer<ReturnType<typeof options>>;
type WorkloadIdentity = NonNullable<Options["workloadIdentity"]>;

/** The STS audience a workload-identity config names, or undefined when it names none completely. */
export function stsAudience(wi: Omit<WorkloadIdentity, "annotation" | "stsEndpoint" | "scope">): string | undefined {
  if (wi.audience) return wi.audience;
  if (wi.projectId && wi.identityProvider) return `identitynamespace:${wi.projectId}.svc.id.goog:${wi.identityProvider}`;
  if (wi.projectNumber && wi.poolId && wi.providerId) {
    return `//iam.googleapis.com/projects/${wi.projectNumber}/locations/global/workloadIdentityPools/${wi.poolId}/providers/${wi.providerId}`;
  }
  return undefined;
}

/**
 * The auth keys for one image: its own registry and Google's registry hosts, each only if the
 * provider's matchImages cover it (the core drops broader keys), plus any path-scoped pattern that
 * matches the image, which then is the only key those patterns allow. Without the patterns (until
 * the core hands them over), the registry and every path prefix of the image: whichever
 * path-scoped pattern selected the image, one of those prefixes lies within it and still serves
 * the pattern's other repositories when the answer is reused from the cache.
 */
export function gcpAuthKeys(request: Pick<CredentialRequest, "image" | "registry">, patterns: readonly string[] | undefined): string[] {
  if (!patterns) return registryAndPathPrefixes(request.image);
  const candidates = [...new Set([request.registry, ...GCP_REGISTRY_KEYS])];
  const keys = candidates.filter((key) => matchImage(key, request.registry) && keyWithinPatterns(key, patterns));
  for (const pattern of patterns) {
    if (pattern.includes("/") && matchImage(pattern, request.image) && !keys.includes(pattern)) keys.push(pattern);
  }
  return keys;
}

/** "r.io/a/b/c" -> ["r.io", "r.io/a", "r.io/a/b", "r.io/a/b/c"]. */
export function registryAndPathPrefixes(image: string): string[] {
  const parts = image.split("/");
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

interface TokenAnswer {
  access_token?: unknown;
  expires_in?: unknown;
}

/** An access token and its expiry, or an error naming the endpoint. */
function readToken(answer: TokenAnswer, what: string, now: number): { token: string; expiresAt: Date } {
  const token = answer.access_token;
  const expiresIn = typeof answer.expires_in === "string" ? Number(answer.expires_in) : answer.expires_in;
  if (typeof token !== "string" || token === "") throw fail(`${what} answered without an access_token`);
  if (typeof expiresIn !== "number" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw fail(`${what} answered without a positive expires_in`);
  }
  return { token, expiresAt: new Date(now + expiresIn * 1000) };
}

function metadataBase(opts: Options, env: ProviderEnv): string {
  if (opts.metadataEndpoint) return opts.metadataEndpoint.replace(/\/+$/, "");
  const host = env.env.GCE_METADATA_HOST;
  return host ? `http://${host}/computeMetadata/v1` : DEFAULT_METADATA;
}

async function metadataToken(opts: Options, env: ProviderEnv, signal: AbortSignal): Promise<{ token: string; expiresAt: Date }> {
  const account = opts.serviceAccount ?? "default";
  // An email's "@" stays as is, as Google's own clients send it.
  const url = `${metadataBase(opts, env)}/instance/service-accounts/${encodeURIComponent(account).replace(/%40/g, "@")}/token`;
  const what = `metadata server ${url}`;
  try {
    const { json } = await withRetries(() => httpJson<TokenAnswer>({
      url, signal, what, env: env.env, secrets: env.secrets,
      headers: { "metadata-flavor": "Google", "user-agent": USER_AGENT },
    }), { signal });
    const answer = readToken(json ?? {}, what, env.now());
    env.secrets.add(answer.token);
    return answer;
  } catch (error) {
    if (error instanceof HttpStatusError && error.status === 404) {
      throw fail(`${what} answered HTTP 404`, `check that the service account "${account}" is attached to this instance`);
    }
    throw fail.withHint(error, "check that the node can reach the GCE metadata server, or set metadataEndpoint");
  }
}

async function federatedToken(wi: WorkloadIdentity, subjectToken: string, env: ProviderEnv, signal: AbortSignal): Promise<{ token: string; expiresAt: Date }> {
  const url = wi.stsEndpoint ?? DEFAULT_STS;
  const what = `STS token exchange ${url}`;
  const body = JSON.stringify({
    audience: stsAudience(wi),
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    requested_token_type: "urn:ietf:params:oauth:token-type:access_token",
    scope: wi.scope ?? CLOUD_PLATFORM_SCOPE,
    subject_token: subjectToken,
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
  });
  try {
    const { json } = await withRetries(() => httpJson<TokenAnswer>({
      url, method: "POST", body, signal, what, env: env.env, secrets: env.secrets,
      headers: { "content-type": "application/json", "user-agent": USER_AGENT },
    }), { signal });
    const answer = readToken(json ?? {}, what, env.now());
    env.secrets.add(answer.token);
    return answer;
  } catch (error) {
    throw fail.withHint(error, "check the workload identity pool's trust of the cluster's service-account issuer and the token audience");
  }
}

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    serviceAccount: "The instance's service account whose token is used: `default` (the default) or its email.",
    metadataEndpoint: "The metadata server's base URL. Default `$GCE_METADATA_HOST`, else `http://169.254.169.254/computeMetadata/v1`.",
    workloadIdentity: "Workload identity: a service account that opts in (annotation) gets a federated token from Google's STS for the kubelet's service-account token (needs `tokenAttributes`).",
    "workloadIdentity.audience": "The STS audience verbatim; or built from `projectId` and `identityProvider` (GKE), or from `projectNumber`, `poolId` and `providerId`.",
    "workloadIdentity.projectId": "GKE: the project whose workload identity pool (`PROJECT.svc.id.goog`) is used.",
    "workloadIdentity.identityProvider": "GKE: the cluster's identity provider URL.",
    "workloadIdentity.projectNumber": "Workload identity federation: the pool's project number.",
    "workloadIdentity.poolId": "Workload identity federation: the pool.",
    "workloadIdentity.providerId": "Workload identity federation: the pool's provider.",
    "workloadIdentity.annotation": "The service-account annotation whose value `\"true\"` opts a service account in. Default `iam.gke.io/enable-wi-image-pull`.",
    "workloadIdentity.stsEndpoint": "Default `https://sts.googleapis.com/v1/token`.",
    "workloadIdentity.scope": "Default `https://www.googleapis.com/auth/cloud-platform`.",
  },
  options,
  defaultMatchImages: GCP_REGISTRY_KEYS,
  create(opts, env) {
    const patterns = env.matchImages;
    const annotation = opts.workloadIdentity?.annotation ?? DEFAULT_OPT_IN_ANNOTATION;
    return async (request, signal): Promise<ProviderResult> => {
      const optedIn = request.serviceAccountAnnotations?.[annotation] === "true";
      let credential: { token: string; expiresAt: Date };
      if (optedIn) {
        // Opted in means workload identity or nothing: never the node's broader identity instead.
        if (!opts.workloadIdentity) {
          throw fail(`the service account opts in to workload identity (${annotation}: "true") but the provider has no workloadIdentity settings`,
            "add workloadIdentity (audience, or projectId and identityProvider) to the provider's config entry");
        }
        if (!request.serviceAccountToken) {
          throw fail(`the service account opts in to workload identity but the request carries no service-account token`,
            "give the provider's entry in the kubelet config tokenAttributes with the workload identity pool's audience");
        }
        credential = await federatedToken(opts.workloadIdentity, request.serviceAccountToken, env, signal);
      } else {
        credential = await metadataToken(opts, env, signal);
      }
      env.log.debug("gcp: access token", {
        provider: env.name, via: optedIn ? "workload identity (STS)" : `metadata server, service account ${opts.serviceAccount ?? "default"}`, expiresAt: credential.expiresAt.toISOString(),
      });
      const auth: ProviderResult["auth"] = {};
      for (const key of gcpAuthKeys(request, patterns)) auth[key] = { username: USERNAME, password: credential.token };
      return { auth, expiresAt: credential.expiresAt };
    };
  },
});

// Where and how the ECR provider's AWS API calls go: the endpoint variant the registry host asks for
// (FIPS, dual-stack, the partition's own domain through the region), unless the operator configured
// an endpoint (the provider's option, then the AWS SDK's AWS_ENDPOINT_URL_<SERVICE> and
// AWS_ENDPOINT_URL variables); the per-attempt timeout that throws, the attempt count, and the
// instance-metadata limits of the SDK's default credential chain.

/** The AWS services the provider calls. */
export type AwsService = "ecr" | "ecr-public" | "sts";

/** The AWS SDK's per-service endpoint variables (its service ids "ECR", "ECR PUBLIC", "STS"). */
export const ENDPOINT_ENV: Readonly<Record<AwsService, string>> = {
  ecr: "AWS_ENDPOINT_URL_ECR",
  "ecr-public": "AWS_ENDPOINT_URL_ECR_PUBLIC",
  sts: "AWS_ENDPOINT_URL_STS",
};

/** Where a call goes, as the registry host says: region (undefined: the SDK's default) and endpoint variant. */
export interface ApiLocation {
  region?: string;
  fips: boolean;
  dualStack: boolean;
}

/** How every call behaves; from the provider's options. */
export interface CallSettings {
  maxAttempts: number;
  /** Per attempt: connecting, and the whole request and answer. */
  requestTimeoutMs: number;
  /** Per instance-metadata request of the default credential chain. */
  imdsTimeoutMs: number;
  /** Whether the default chain may retry instance metadata without an IMDSv2 token. */
  imdsV1Fallback: boolean;
}

/** The endpoint an operator configured for a service, if any: the option, else the SDK's environment variables. */
export function configuredEndpoint(service: AwsService, explicit: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (explicit) return explicit;
  // The SDK's own switch for ignoring configured endpoints; honoured the same way here.
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === "true") return undefined;
  return env[ENDPOINT_ENV[service]] || env.AWS_ENDPOINT_URL || undefined;
}

/** The endpoint part of an SDK client's config: a configured endpoint wins; otherwise the SDK resolves one for the region and variant. */
export function endpointConfig(service: AwsService, location: ApiLocation, explicit: string | undefined, env: Readonly<Record<string, string | undefined>>) {
  const region = location.region === undefined ? {} : { region: location.region };
  const endpoint = configuredEndpoint(service, explicit, env);
  // The SDK refuses FIPS or dual-stack together with a custom endpoint, even when they come from
  // AWS_USE_FIPS_ENDPOINT: a configured endpoint is the whole answer, so both are off.
  if (endpoint) return { ...region, endpoint, useFipsEndpoint: false, useDualstackEndpoint: false };
  // A variant the host does not ask for is left to the SDK (AWS_USE_FIPS_ENDPOINT, the config file),
  // so that an operator who wants FIPS API endpoints for an ordinary registry host still gets them.
  return {
    ...region,
    ...(location.fips ? { useFipsEndpoint: true } : {}),
    ...(location.dualStack ? { useDualstackEndpoint: true } : {}),
  };
}

/** The whole SDK client config for one service and location: endpoint, timeouts that throw, attempts, credential-chain limits. */
export function awsClientConfig(service: AwsService, location: ApiLocation, explicit: string | undefined, settings: CallSettings, env: Readonly<Record<string, string | undefined>>) {
  return {
    ...endpointConfig(service, location, explicit, env),
    maxAttempts: settings.maxAttempts,
    // The SDK's standard retry mode: throttling and 5xx answers and timeouts are retried with
    // jittered exponential backoff, up to maxAttempts.
    retryMode: "standard",
    // Without throwOnRequestTimeout the SDK only prints a warning and keeps waiting.
    requestHandler: { connectionTimeout: settings.requestTimeoutMs, requestTimeout: settings.requestTimeoutMs, throwOnRequestTimeout: true },
    // The client hands its own config to the SDK's default credential chain as that chain's
    // options: these bound its instance-metadata lookups (see credentialChainLimits).
    ...credentialChainLimits(settings),
  };
}

/**
 * Limits for the SDK's default credential chain on a host without credentials, where the instance
 * metadata address silently drops packets: there the SDK waits 1 s for an IMDSv2 token and then 1 s
 * more for the IMDSv1 fallback on every exec. The fallback is off unless asked for (imdsV1Fallback):
 * credmux runs on the node beside the kubelet, not behind a pod's extra network hop, so where
 * instance metadata answers at all it answers the IMDSv2 token request; and AWS recommends
 * requiring IMDSv2. With the per-request timeout at the provider's imdsTimeout, such a host fails
 * after one imdsTimeout (1 s by default) with a clear error, well inside the exec's deadline.
 */
export function credentialChainLimits(settings: CallSettings) {
  return {
    timeout: settings.imdsTimeoutMs,
    maxRetries: 0,
    ...(settings.imdsV1Fallback ? {} : { ec2MetadataV1Disabled: true }),
  };
}

/** What an SDK client exposes for recording the endpoint it called; loose, so that every client type fits. */
interface MiddlewareHost {
  middlewareStack: { add(middleware: unknown, options: { step: "build"; name: string }): void };
}

/** Adds a step to the client that remembers the endpoint of its last request, for error messages. */
export function recordEndpoint(client: MiddlewareHost): { endpoint?: string } {
  const seen: { endpoint?: string } = {};
  const middleware = (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
    // By the build step the endpoint is resolved into the request.
    const request = args.request as { protocol?: string; hostname?: string; port?: number; path?: string } | undefined;
    if (request?.hostname) seen.endpoint = `${request.protocol ?? "https:"}//${request.hostname}${request.port ? `:${request.port}` : ""}`;
    return next(args);
  };
  client.middlewareStack.add(middleware, { step: "build", name: "credmuxEndpointRecorder" });
  return seen;
}

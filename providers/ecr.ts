// Amazon ECR (cloud-registries.md §1): private registries in every partition and ECR Public, through
// GetAuthorizationToken. The node's credentials come from the AWS SDK's default chain; a role per
// registry account (`roles`) is assumed with STS AssumeRole for cross-account pulls; in
// service-account mode the pod's role, named by a service-account annotation, is assumed with
// AssumeRoleWithWebIdentity and the kubelet's token. The SDK (ecr-sdk.ts) is imported only when a
// request reaches this provider: a request for another provider never pays for it.
import * as z from "../src/provider-kit/schema.js";
import { parseGoDuration } from "../src/duration.js";
import { defineProvider, providerError, type ProviderError, type CredentialRequest, type ProviderEnv, type ProviderResult } from "../src/provider.js";
import { awsClientConfig, ENDPOINT_ENV, recordEndpoint, type ApiLocation, type AwsService, type CallSettings } from "./ecr-endpoints.js";
import { ECR_DEFAULT_MATCH_IMAGES, ecrRegistryFromHost, registryHostOfImage, type EcrRegistryHost } from "./ecr-hosts.js";

const TYPE = "ecr";
const fail = providerError(TYPE);
/** The session name STS records for every role credmux assumes (CloudTrail shows it). */
const SESSION_NAME = "credmux";
/** Service-account mode: where the pod's role is looked for unless roleAnnotations says otherwise, first found wins. */
export const DEFAULT_ROLE_ANNOTATIONS: readonly string[] = ["eks.amazonaws.com/ecr-role-arn", "eks.amazonaws.com/role-arn"];
const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

const options = () => {
  const duration = (what: string) => z.string().check(z.refine((text) => (parseGoDuration(text) ?? 0) > 0, {
    message: `expected ${what} as a Go duration above 0, such as "5s" or "500ms"`,
  }));
  const endpointUrl = z.string().check(z.regex(/^https?:\/\/[^/\s]+/, { message: "expected an http:// or https:// URL" }));
  return z.strictObject({
    /** The region for hosts the patterns match that are not ECR hosts (pull-through mirrors); default: the SDK's. */
    region: z.optional(z.string().check(z.minLength(1))),
    /** Registry account id to the IAM role assumed (STS AssumeRole) before asking that account's ECR. */
    roles: z.optional(z.record(
      z.string().check(z.regex(ACCOUNT_ID, { message: "expected a 12-digit AWS account id" })),
      z.string().check(z.regex(ROLE_ARN, { message: "expected an IAM role ARN, arn:aws:iam::<account>:role/<name>" })),
    )),
    /** Service-account mode: the annotations that may name the pod's role, first found wins. */
    roleAnnotations: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
    /** Service-account mode without a role annotation: use the node's credentials, or fail (default). */
    fallback: z.optional(z.enum(["node", "fail"])),
    /** Attempts per AWS call; throttling, 5xx and timeouts are retried with jittered backoff (default 3). */
    maxAttempts: z.optional(z.int().check(z.minimum(1), z.maximum(10))),
    /** Per attempt (default 5s): three of them fit the default 20s deadline. */
    requestTimeout: z.optional(duration("the time one attempt of an AWS call may take")),
    /** Per instance-metadata request of the default credential chain (default 1s). */
    imdsTimeout: z.optional(duration("the time one instance-metadata request may take")),
    /** Let the default chain fall back to IMDSv1 when no IMDSv2 token comes (default false). */
    imdsV1Fallback: z.optional(z.boolean()),
    /** Endpoints for ECR, ECR Public and STS; otherwise AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, or the host's own. */
    endpoint: z.optional(endpointUrl),
    publicEndpoint: z.optional(endpointUrl),
    stsEndpoint: z.optional(endpointUrl),
  });
};
type Options = z.infer<ReturnType<typeof options>>;

/** The AWS SDK's clients and commands this provider uses. */
export type EcrSdk = typeof import("./ecr-sdk.js");

let ecrSdk: Promise<EcrSdk> | undefined;

/** The SDK, imported once per process. */
function importEcrSdk(): Promise<EcrSdk> {
  // The SDK prints a support notice for Node 20 on stderr; the kubelet shows stderr as the error.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  ecrSdk ??= import("./ecr-sdk.js");
  return ecrSdk;
}

/** AWS credentials as the SDK takes and STS gives them. */
interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Whose credentials sign the ECR call: the node's (the SDK's default chain) or ones from STS. */
interface Identity {
  credentials?: AwsCredentials;
  /** For messages: "node credentials", "role arn:…". */
  describe: string;
}

const NODE_IDENTITY: Identity = { describe: "the node's credentials" };
/** AssumeRoleWithWebIdentity is unsigned: the service-account token is the caller's only proof. */
const WEB_IDENTITY: Identity = { describe: "the service account's token" };

/** AWS error names that mean the caller's credentials, not its permissions, were refused. */
const REFUSED_CREDENTIALS = new Set([
  "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch",
  "IncompleteSignature", "MissingAuthenticationTokenException", "ExpiredToken", "ExpiredTokenException",
]);

/** What to check when AWS answered a call with an error, by the error's name and HTTP status. */
function refusalHint(call: Call, identity: Identity, name: string, status: number | undefined): string {
  if (name === "ThrottlingException" || name === "Throttling" || status === 429) {
    return "AWS throttles this call per account and region; keep cache.dir set so that execs share one token, or raise maxAttempts";
  }
  if (status !== undefined && status >= 500) return "the AWS service failed; the kubelet asks again at the next pull";
  if (REFUSED_CREDENTIALS.has(name)) {
    return `AWS refused ${identity.describe}: check the node IAM role or the AWS_* credentials in the env of the kubelet's CredentialProviderConfig, and the node's clock`;
  }
  if (identity === WEB_IDENTITY) {
    return "check the role's trust policy: it must trust the cluster's OIDC provider for this service account and the token's audience (tokenAttributes.serviceAccountTokenAudience)";
  }
  if (call.service === "sts") return `check that the role's trust policy lets ${identity.describe} assume it`;
  const permission = call.service === "ecr" ? "ecr:GetAuthorizationToken" : "ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken";
  return `check the IAM permissions of ${identity.describe}: it needs ${permission}`;
}

/** One AWS call, for messages: `GetAuthorizationToken for 111122223333 in us-east-1`. */
interface Call {
  service: AwsService;
  operation: string;
  subject: string;
}

type SdkClient = {
  send(command: unknown, options: { abortSignal: AbortSignal }): Promise<unknown>;
  config: { region(): Promise<string> };
  middlewareStack: { add(middleware: unknown, options: { step: "build"; name: string }): void };
};

function formatMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The AWS side of the provider: one client per service, location and identity, made on first use. */
class EcrApi {
  readonly #sdk: EcrSdk;
  readonly #opts: Options;
  readonly #settings: CallSettings;
  readonly #env: ProviderEnv;
  readonly #clients = new Map<string, { client: SdkClient; seen: { endpoint?: string } }>();
  /** Role credentials by role and base identity, for the life of the process (the check command asks many images). */
  readonly #roles = new Map<string, Promise<AwsCredentials>>();

  constructor(sdk: EcrSdk, opts: Options, settings: CallSettings, env: ProviderEnv) {
    this.#sdk = sdk;
    this.#opts = opts;
    this.#settings = settings;
    this.#env = env;
  }

  #client(service: AwsService, location: ApiLocation, identity: Identity): { client: SdkClient; seen: { endpoint?: string } } {
    const key = JSON.stringify([service, location, identity.credentials?.accessKeyId ?? ""]);
    let entry = this.#clients.get(key);
    if (!entry) {
      const explicit = service === "ecr" ? this.#opts.endpoint : service === "ecr-public" ? this.#opts.publicEndpoint : this.#opts.stsEndpoint;
      const config = {
        ...awsClientConfig(service, location, explicit, this.#settings, this.#env.env),
        ...(identity.credentials ? { credentials: identity.credentials } : {}),
      };
      const client = (service === "ecr" ? new this.#sdk.ECR.ECRClient(config)
        : service === "ecr-public" ? new this.#sdk.ECRPublic.ECRPUBLICClient(config)
        : new this.#sdk.STS.STSClient(config)) as unknown as SdkClient;
      entry = { client, seen: recordEndpoint(client) };
      this.#clients.set(key, entry);
    }
    return entry;
  }

  /** The region calls for this location go to: its own, or the SDK's default (AWS_REGION, the config file). */
  async region(location: ApiLocation, host: string): Promise<string> {
    if (location.region) return location.region;
    try {
      return await this.#client("ecr", location, NODE_IDENTITY).client.config.region();
    } catch (error) {
      throw fail(`${host} is not an ECR registry host, and no AWS region is configured (${(error as Error).message})`,
        "set the provider's region option, or AWS_REGION in the env of the kubelet's CredentialProviderConfig");
    }
  }

  async #send<T>(call: Call, location: ApiLocation, identity: Identity, command: unknown, signal: AbortSignal): Promise<T> {
    const { client, seen } = this.#client(call.service, location, identity);
    try {
      return await client.send(command, { abortSignal: signal }) as T;
    } catch (error) {
      throw this.#failure(call, identity, seen.endpoint, error, signal);
    }
  }

  /** ECR's (or ECR Public's) GetAuthorizationToken: the token and when it expires. */
  async authorizationToken(registry: EcrRegistryHost | undefined, location: ApiLocation, identity: Identity, subject: string, signal: AbortSignal) {
    if (registry?.kind === "public") {
      const call: Call = { service: "ecr-public", operation: "ECR Public GetAuthorizationToken", subject };
      const answer = await this.#send<{ authorizationData?: { authorizationToken?: string; expiresAt?: Date } }>(
        call, location, identity, new this.#sdk.ECRPublic.GetAuthorizationTokenCommand({}), signal);
      return { call, data: answer.authorizationData };
    }
    const call: Call = { service: "ecr", operation: "GetAuthorizationToken", subject };
    // Without registryIds, as the upstream plugin since 2023: the token serves every registry the identity may pull from.
    const answer = await this.#send<{ authorizationData?: Array<{ authorizationToken?: string; expiresAt?: Date }> }>(
      call, location, identity, new this.#sdk.ECR.GetAuthorizationTokenCommand({}), signal);
    return { call, data: answer.authorizationData?.[0] };
  }

  /** STS AssumeRole with the base identity's credentials (cross-account pulls; role chaining after a pod's role). */
  assumeRole(roleArn: string, base: Identity, location: ApiLocation, region: string, signal: AbortSignal): Promise<AwsCredentials> {
    const key = `role|${roleArn}|${base.credentials?.accessKeyId ?? "node"}`;
    return this.#memo(key, async () => {
      const call: Call = { service: "sts", operation: `AssumeRole ${roleArn}`, subject: ` in ${region}` };
      const answer = await this.#send<{ Credentials?: StsCredentials }>(call, location, base,
        new this.#sdk.STS.AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: SESSION_NAME }), signal);
      return this.#credentials(call, answer.Credentials);
    });
  }

  /** STS AssumeRoleWithWebIdentity with the kubelet's service-account token (an unsigned call: the token is the proof). */
  assumeRoleWithWebIdentity(roleArn: string, token: string, location: ApiLocation, region: string, signal: AbortSignal): Promise<AwsCredentials> {
    return this.#memo(`web|${roleArn}|${token}`, async () => {
      const call: Call = { service: "sts", operation: `AssumeRoleWithWebIdentity ${roleArn}`, subject: ` in ${region}` };
      const answer = await this.#send<{ Credentials?: StsCredentials }>(call, location, WEB_IDENTITY,
        new this.#sdk.STS.AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: SESSION_NAME, WebIdentityToken: token }), signal);
      return this.#credentials(call, answer.Credentials);
    });
  }

  #memo(key: string, fetch: () => Promise<AwsCredentials>): Promise<AwsCredentials> {
    const cached = this.#roles.get(key);
    if (cached) return cached.then((credentials) => {
      // Still good for a minute: reuse; else ask again.
      if (!credentials.expiration || credentials.expiration.getTime() - this.#env.now() > 60_000) return credentials;
      this.#roles.delete(key);
      return this.#memo(key, fetch);
    });
    const pending = fetch();
    this.#roles.set(key, pending);
    pending.catch(() => this.#roles.delete(key));
    return pending;
  }

  #credentials(call: Call, credentials: StsCredentials | undefined): AwsCredentials {
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) throw fail(`${call.operation}${call.subject} answered without credentials`);
    this.#env.secrets.add(credentials.SecretAccessKey);
    this.#env.secrets.add(credentials.SessionToken);
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      ...(credentials.SessionToken ? { sessionToken: credentials.SessionToken } : {}),
      ...(credentials.Expiration ? { expiration: credentials.Expiration } : {}),
    };
  }

  /** One line that says which call failed where, and what to check. */
  #failure(call: Call, identity: Identity, endpoint: string | undefined, error: unknown, signal: AbortSignal): ProviderError {
    const e = (error ?? {}) as { name?: string; message?: string; code?: string; $metadata?: { attempts?: number; httpStatusCode?: number }; $fault?: string };
    const at = endpoint ? ` at ${endpoint}` : "";
    const what = `${call.operation}${call.subject}${at}`;
    const endpointVariable = ENDPOINT_ENV[call.service];
    const attempts = e.$metadata?.attempts ?? this.#settings.maxAttempts;
    const tries = `${attempts} attempt${attempts === 1 ? "" : "s"}`;
    const message = (e.message ?? String(error)).replace(/\s+/g, " ").trim();
    if (signal.aborted || e.name === "AbortError") {
      return fail(`${what}: no answer before the deadline`, `the deadline is defaults.timeout; check that the node reaches the endpoint, or set ${endpointVariable}`, { cause: error });
    }
    if (e.name === "TimeoutError" || e.code === "ETIMEDOUT") {
      return fail(`${what} timed out after ${tries} of ${formatMs(this.#settings.requestTimeoutMs)}`,
        `check that the node reaches ${endpoint ?? "the endpoint"} (route, proxy, VPC endpoint), or set ${endpointVariable}; requestTimeout and maxAttempts are the provider's options`, { cause: error });
    }
    // The SDK's default chain found nothing (explicit credentials never fail here).
    if (e.name === "CredentialsProviderError" || /Could not load credentials/.test(message)) {
      return fail(`${what}: no AWS credentials for the node (${message})`,
        "check the node's IAM role (instance profile), or pass AWS_* settings (AWS_PROFILE, AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, ...) in the env of the kubelet's CredentialProviderConfig", { cause: error });
    }
    if (e.name === "EndpointError") {
      return fail(`${what}: no endpoint (${message})`,
        `an endpoint_url from the AWS config file cannot be combined with a FIPS or dual-stack registry host; set ${endpointVariable} or the provider's endpoint option instead`, { cause: error });
    }
    const status = e.$metadata?.httpStatusCode;
    if (status !== undefined || e.$fault) {
      const answered = `${what} failed after ${tries}: ${e.name ?? "error"}${status ? ` (HTTP ${status})` : ""}: ${message}`;
      return fail(answered, refusalHint(call, identity, e.name ?? "", status), { cause: error });
    }
    return fail(`${what}: cannot reach it (${e.code ?? e.name ?? "error"}: ${message})`,
      `check the node's route, proxy or VPC endpoint to ${endpoint ?? "the endpoint"}, or set ${endpointVariable}`, { cause: error });
  }
}

interface StsCredentials {
  AccessKeyId?: string;
  SecretAccessKey?: string;
  SessionToken?: string;
  Expiration?: Date;
}

/** The username and password in an ECR authorization token: base64 of "AWS:<password>". */
export function decodeAuthorizationToken(token: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Settings with every default applied. */
function callSettings(opts: Options): CallSettings {
  return {
    maxAttempts: opts.maxAttempts ?? 3,
    requestTimeoutMs: parseGoDuration(opts.requestTimeout ?? "5s")!,
    imdsTimeoutMs: parseGoDuration(opts.imdsTimeout ?? "1s")!,
    imdsV1Fallback: opts.imdsV1Fallback ?? false,
  };
}

/** Makes the provider function; the AWS SDK comes from loadSdk on the first request (ecr-sdk.ts; tests may hand in their own). */
export function createEcrProvider(opts: Options, env: ProviderEnv, loadSdk: () => EcrSdk | Promise<EcrSdk> = importEcrSdk) {
  const settings = callSettings(opts);
  const roleAnnotations = opts.roleAnnotations ?? DEFAULT_ROLE_ANNOTATIONS;
  const noticed = new Set<string>();
  let api: Promise<EcrApi> | undefined;

  const podIdentity = async (ecr: EcrApi, request: CredentialRequest, location: ApiLocation, region: string, signal: AbortSignal): Promise<Identity> => {
    const token = request.serviceAccountToken;
    if (!token) return NODE_IDENTITY;
    const annotations = request.serviceAccountAnnotations ?? {};
    const key = roleAnnotations.find((candidate) => annotations[candidate]);
    if (key === undefined) {
      const keys = roleAnnotations.map((candidate) => `"${candidate}"`).join(", ");
      if (opts.fallback === "node") {
        env.log.info("the service account names no role; using the node's credentials (fallback: node)", { annotations: roleAnnotations, image: request.image });
        return NODE_IDENTITY;
      }
      throw fail(`the service account has none of the role annotations ${keys}`,
        "annotate the service account with the IAM role to assume (and list the key in the kubelet's tokenAttributes annotation keys), or set fallback: node");
    }
    const roleArn = annotations[key]!;
    if (!ROLE_ARN.test(roleArn)) throw fail(`the service account's annotation "${key}" is not an IAM role ARN: ${JSON.stringify(roleArn)}`);
    const credentials = await ecr.assumeRoleWithWebIdentity(roleArn, token, location, region, signal);
    return { credentials, describe: `role ${roleArn} (from the service account's ${key})` };
  };

  return async (request: CredentialRequest, signal: AbortSignal): Promise<ProviderResult> => {
    const host = registryHostOfImage(request.image);
    if (!host) throw fail(`cannot read a registry host from the image ${JSON.stringify(request.image)}`);
    const registry = ecrRegistryFromHost(host);
    // One for concurrent first requests too (the check command asks many images at once).
    api ??= Promise.resolve(loadSdk()).then((sdk) => new EcrApi(sdk, opts, settings, env));
    const ecr = await api;
    const location: ApiLocation = registry
      ? { region: registry.region, fips: registry.fips, dualStack: registry.dualStack }
      : { ...(opts.region ? { region: opts.region } : {}), fips: false, dualStack: false };
    const region = await ecr.region(location, host);
    if (!registry && !noticed.has(host)) {
      noticed.add(host);
      env.log.info(`${host} is not an ECR registry host; asking ECR in ${region} (${opts.region ? "the provider's region option" : "the AWS SDK's default region"})`, { registry: host, region });
    }
    let identity = await podIdentity(ecr, request, location, region, signal);
    const roleArn = registry?.account ? opts.roles?.[registry.account] : undefined;
    if (roleArn) {
      const credentials = await ecr.assumeRole(roleArn, identity, location, region, signal);
      identity = { credentials, describe: `role ${roleArn}` };
    }
    const subject = registry?.account ? ` for ${registry.account} in ${region}` : ` in ${region}`;
    const { call, data } = await ecr.authorizationToken(registry, location, identity, subject, signal);
    const what = `${call.operation}${call.subject}`;
    if (!data) throw fail(`${what} answered without authorization data`, `check the IAM permissions of ${identity.describe}`);
    if (!data.authorizationToken) throw fail(`${what} answered without an authorization token`);
    env.secrets.add(data.authorizationToken);
    const credential = decodeAuthorizationToken(data.authorizationToken);
    if (!credential) throw fail(`${what} answered a token that is not base64 of "user:password"`);
    env.secrets.addCredential(credential.username, credential.password);
    return {
      // The image's registry host exactly, as the kubelet keys it (a mirror's host included).
      auth: { [request.registry]: credential },
      ...(data.expiresAt instanceof Date && Number.isFinite(data.expiresAt.getTime()) ? { expiresAt: data.expiresAt } : {}),
    };
  };
}

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    region: "The region for hosts the patterns match that are not ECR hosts (pull-through mirrors). Default: the AWS SDK's.",
    roles: "Registry account id (12 digits) to the IAM role ARN assumed with STS AssumeRole before asking that account's ECR: cross-account pulls.",
    roleAnnotations: "Service-account mode: the service-account annotations that may name the pod's role, first found wins. Default `eks.amazonaws.com/ecr-role-arn`, then `eks.amazonaws.com/role-arn`.",
    fallback: "Service-account mode, no role annotation: `fail` (default) or `node` (the node's credentials).",
    maxAttempts: "Attempts per AWS call (1-10); throttling, 5xx and timeouts are retried with jittered backoff. Default `3`.",
    requestTimeout: "The time one attempt of an AWS call may take. Default `5s`.",
    imdsTimeout: "The time one instance-metadata request of the default credential chain may take. Default `1s`.",
    imdsV1Fallback: "Let the default chain fall back to IMDSv1 when no IMDSv2 token comes. Default `false`: a node whose metadata address drops packets fails after one `imdsTimeout`.",
    endpoint: "The ECR API endpoint. Default: `AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL`, or the registry host's own (FIPS and dual-stack included). The SDK ignores `HTTPS_PROXY`: behind a proxy use a VPC endpoint or this.",
    publicEndpoint: "The ECR Public API endpoint, likewise.",
    stsEndpoint: "The STS endpoint, likewise.",
  },
  options,
  defaultMatchImages: ECR_DEFAULT_MATCH_IMAGES,
  create(opts, env) {
    return createEcrProvider(opts, env);
  },
});

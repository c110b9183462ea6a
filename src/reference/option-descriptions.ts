// What each config field means, for docs/config-reference.md (src/reference/config-reference.ts
// writes it from the zod schemas and these). Kept here, not in the schemas, so that no description
// is in the bundle every exec reads: only `npm run docs` and the tests load this file. Keys are
// field paths as config-reference.ts walks the schemas: `a.b`, `list[].field`, `record.*.field`.
// A field of a schema without a description here, or a description of no field, fails the
// generator and the test that holds the committed docs equal to the schemas.

/** Field path to what the field means, its default and its unit. */
export type Descriptions = Readonly<Record<string, string>>;

/** The top level of the credmux config file (src/config.ts, fileSchema). */
export const CONFIG_DESCRIPTIONS: Descriptions = {
  apiVersion: "The config format's version.",
  kind: "The document's kind.",
  defaults: "Settings for every provider.",
  "defaults.cacheDuration": "How long the kubelet may reuse credentials whose expiry credmux does not know (a docker config, a token file). A Go duration; default `5m`.",
  "defaults.expiryMargin": "Kept before a credential's known expiry: the kubelet is told `cacheDuration = expiry - now - expiryMargin`, and credmux's own cache stops serving the credential then. Default `5m`.",
  "defaults.timeout": "The deadline of one kubelet exec, every provider included; above 0 and below the kubelet's 1m plugin timeout. Default `20s`.",
  onFailure: "What a failing provider makes of the exec: `error` (default: exit 1, the kubelet caches nothing and asks again at the next pull) or `empty` (answer no credentials, not cached, and pull anonymously).",
  cache: "credmux's on-disk state: credentials of token-issuing providers, V8 code caches and config notes (docs/internals.md).",
  "cache.dir": "The directory, relative to the config file; `\"\"` turns all on-disk state off. Default `/var/lib/credmux`.",
  "cache.maxEntries": "In-memory credential entries for long-lived commands (`check`). Default `1000`.",
  log: "Logging to stderr (and a file).",
  "log.level": "Default `warn`; the `--log-level` flag and `CREDMUX_LOG_LEVEL` win.",
  "log.file": "Also append the log here (kubelets before 1.28 drop a plugin's stderr); relative to the config file. Default: none.",
  mirrors: "Registry mirrors (README, \"Mirrors\"): images under `from` get the credentials of the providers that match the image under `to`, keyed for `from`.",
  "mirrors[].from": "What the kubelet asks for: a matchImages pattern such as `docker.io` or `registry.example.com/team`.",
  "mirrors[].to": "Where the mirror is: a registry and path, without `*`.",
  providers: "The providers, asked in order; each entry has the common fields below and its type's options.",
};

/** The fields every provider entry has (src/config.ts, providerCommonSchema). */
export const PROVIDER_COMMON_DESCRIPTIONS: Descriptions = {
  name: "Unique in the config: letters, digits, `.`, `_` and `-`, at most 63, starting with a letter or digit. Names the provider in logs, `check`, `cache` and the kubelet entries.",
  type: "A built-in type (below) or `module`.",
  matchImages: "The images this provider serves, as kubelet patterns: `host[:port][/path]`, `*` within a host label (never across a dot), ports equal, paths prefixes. Required unless the type has default patterns. No scheme, no empty label; Docker Hub is `docker.io`.",
  tokenAttributes: "Service-account mode: the kubelet hands credmux the pod's service-account token for this provider (Kubernetes 1.33+, KubeletServiceAccountTokenForCredentialProviders). The provider gets a kubelet entry of its own, `credmux-NAME`, with these attributes.",
  "tokenAttributes.serviceAccountTokenAudience": "The audience of the token the kubelet requests (what the token exchange expects, e.g. `sts.amazonaws.com`).",
  "tokenAttributes.cacheType": "How the kubelet and credmux key cached answers: `ServiceAccount` (per service account) or `Token` (per token).",
  "tokenAttributes.requireServiceAccount": "Whether the kubelet asks only for pods with a service account; must be true when required annotation keys are listed.",
  "tokenAttributes.requiredServiceAccountAnnotationKeys": "Annotations the service account must have; the kubelet passes them to credmux.",
  "tokenAttributes.optionalServiceAccountAnnotationKeys": "Annotations passed to credmux when the service account has them; none may also be required.",
};

/** Each built-in type's own fields (providers/TYPE.ts, options). */
export const PROVIDER_OPTION_DESCRIPTIONS: Readonly<Record<string, Descriptions>> = {
  dockercfg: {
    files: "Docker `config.json` or legacy `.dockercfg` files, merged in order (an earlier file's entry wins), re-read every exec; relative to the config file. Default: the kubelet's search path (`{rootDir}/config.json`, `./config.json`, `$HOME/.docker/config.json`, `/.docker/config.json`, then the same for `.dockercfg`).",
    rootDir: "The kubelet's `--root-dir`, first in that search path. Default `/var/lib/kubelet`.",
  },
  token: {
    username: "The username the registry expects beside the token (often anything non-empty).",
    secretFile: "A file holding the token, re-read every exec (a rotated mounted secret works); relative to the config file. Exactly one of `secretFile` and `secretEnv`.",
    secretEnv: "An environment variable of the kubelet's holding the token.",
  },
  oauth2: {
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
  "credential-helper": {
    helper: "The docker credential helper: a suffix (`ecr-login` runs `docker-credential-ecr-login` from the PATH) or a path to the program. Without it, the helper that `credHelpers`/`credsStore` of the docker config files name.",
    dockerConfigFiles: "Docker config files whose `credHelpers`/`credsStore` name the helper. Default: the kubelet's search path.",
    rootDir: "The kubelet's `--root-dir`, first in that search path. Default `/var/lib/kubelet`.",
    env: "Variables added to the helper's environment (otherwise credmux's own), as in the kubelet's config.",
    "env[].name": "The variable's name.",
    "env[].value": "Its value.",
  },
  "kubelet-plugin": {
    command: "Another kubelet credential provider (a vendor's ECR, GCP or ACR plugin): a path, relative to the config file, or a name found on the PATH.",
    args: "Its arguments.",
    env: "Added to its environment after credmux's own, as the kubelet's config does.",
    "env[].name": "The variable's name.",
    "env[].value": "Its value.",
    apiVersion: "The protocol version the plugin speaks, as in the kubelet's config. Default `credentialprovider.kubelet.k8s.io/v1`.",
    defaultCacheDuration: "The lifetime of an answer without `cacheDuration`, as the kubelet's `defaultCacheDuration`; a Go duration.",
  },
  ecr: {
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
  gcp: {
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
  acr: {
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
  alibaba: {
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
};

// What each field of the config's own schemas means, for docs/config-reference.md
// (src/reference/config-reference.ts writes it from the zod schemas and these). Kept here, not in
// the schemas, so that no description is in the main code every exec reads: only `npm run docs` and
// the tests load this file. A provider describes its own options beside its schema
// (optionDescriptions in its definition), read only when its chunk is loaded. Keys are field paths
// as config-reference.ts walks the schemas: `a.b`, `list[].field`, `record.*.field`. A field
// without a description, or a description of no field, fails the generator and the test that holds
// the committed docs equal to the schemas.

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

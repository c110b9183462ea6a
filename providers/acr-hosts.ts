// Which registry hosts are Azure Container Registry login servers, as data: the clouds' DNS
// suffixes, and one rule for the name in front of them. The rule is the upstream plugin's
// anti-spoofing check (cloud-provider-azure PR #8255: the suffix must end the host, the name is one
// DNS label) widened for the names it misses (issue #9975, PR #10720): domain-name-label registries
// (`name-hash.azurecr.io`) and geo-replica endpoints (`name.region.geo.azurecr.io`).

/** One cloud's ACR DNS suffix and where its Azure AD tokens come from. */
export interface AcrCloud {
  suffix: string;
  cloud: string;
  /** The Microsoft Entra authority of this cloud, for service-principal and workload-identity tokens. */
  authorityHost: string;
}

/** The clouds whose suffixes credmux knows; custom clouds add theirs through the provider's dnsSuffixes. */
export const ACR_CLOUDS: readonly AcrCloud[] = [
  { suffix: "azurecr.io", cloud: "AzurePublicCloud", authorityHost: "https://login.microsoftonline.com" },
  { suffix: "azurecr.cn", cloud: "AzureChinaCloud", authorityHost: "https://login.chinacloudapi.cn" },
  { suffix: "azurecr.us", cloud: "AzureUSGovernmentCloud", authorityHost: "https://login.microsoftonline.us" },
  { suffix: "azurecr.de", cloud: "AzureGermanCloud", authorityHost: "https://login.microsoftonline.de" },
];

/**
 * The name in front of the suffix: a registry name (letters and digits only, as ACR requires), an
 * optional `-hash` of a domain-name-label registry, and an optional `.region.geo` of a geo-replica
 * endpoint. One dash at most, so `foo-azurecr-io.azurecr.cn` stays out, as upstream.
 */
const LOGIN_SERVER_NAME = String.raw`(?<name>[a-z0-9]+(?:-[a-z0-9]+)?)(?:\.(?<region>[a-z0-9]+)\.geo)?`;

/** A recognised ACR login server. */
export interface AcrLoginServer {
  /** The host as the image names it (lower-cased). */
  host: string;
  /** The registry name, with the domain-name-label hash if any. */
  name: string;
  /** The geo-replica region, for `name.region.geo.suffix`. */
  region?: string;
  suffix: string;
  /** Absent for a custom cloud's suffix. */
  cloud?: AcrCloud;
}

/** The default matchImages: each known suffix, and its geo-replica endpoints (one label more). */
export const ACR_DEFAULT_MATCH_IMAGES: readonly string[] = [
  ...ACR_CLOUDS.map(({ suffix }) => `*.${suffix}`),
  ...ACR_CLOUDS.map(({ suffix }) => `*.*.geo.${suffix}`),
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A custom DNS suffix as operators write it (`.azurecr.my.cloud` or `azurecr.my.cloud`), normalised. */
export function normalizeAcrSuffix(suffix: string): string {
  return suffix.trim().replace(/^\.+/, "").replace(/\.+$/, "").toLowerCase();
}

/** The login server a registry host names, or undefined when the host is not an ACR login server. */
export function acrLoginServer(registry: string, customSuffixes: readonly string[] = []): AcrLoginServer | undefined {
  const host = registry.toLowerCase();
  // A port or a path is never part of a login server; `docker/foo.azurecr.io` names Docker Hub.
  if (host.includes(":") || host.includes("/")) return undefined;
  const candidates: Array<{ suffix: string; cloud?: AcrCloud }> = [
    ...ACR_CLOUDS.map((cloud) => ({ suffix: cloud.suffix, cloud })),
    ...customSuffixes.map(normalizeAcrSuffix).filter((suffix) => suffix !== "").map((suffix) => ({ suffix })),
  ];
  for (const { suffix, cloud } of candidates) {
    const match = new RegExp(`^${LOGIN_SERVER_NAME}\\.${escapeRegExp(suffix)}$`).exec(host);
    if (!match) continue;
    const { name, region } = match.groups as { name: string; region?: string };
    return { host, name, ...(region ? { region } : {}), suffix, ...(cloud ? { cloud } : {}) };
  }
  return undefined;
}

// Which registry hosts are Alibaba Cloud Container Registry endpoints, as data: Personal Edition
// (`registry[-intl][-vpc][-internal].REGION.aliyuncs.com`) and Enterprise Edition
// (`INSTANCE-registry[-vpc].REGION.cr.aliyuncs.com`). The rules follow the community helper's
// regex (mozillazg/docker-credential-acr-helper, used by Kuromesi/acr-credential-provider) but are
// anchored at both ends: theirs also accepts `registry.cn-hangzhou.aliyuncs.com.example.org`.

export type AlibabaEdition = "personal" | "enterprise";

/** A recognised ACR endpoint: which edition's API issues its tokens, in which region. */
export interface AlibabaRegistry {
  host: string;
  edition: AlibabaEdition;
  region: string;
  /** Enterprise Edition: the instance name in front of `-registry`, looked up for its instance id. */
  instanceName?: string;
  /** Enterprise Edition: the instance id, when the provider's config names it for this host. */
  instanceId?: string;
}

interface HostRule {
  edition: AlibabaEdition;
  /** Named groups: region, and instance for Enterprise Edition. */
  pattern: RegExp;
}

const REGION = String.raw`(?<region>[a-z0-9]+(?:-[a-z0-9]+)*)`;

/** The host rules, checked in order. */
export const ALIBABA_HOST_RULES: readonly HostRule[] = [
  { edition: "personal", pattern: new RegExp(String.raw`^registry(?:-intl)?(?:-vpc)?(?:-internal)?(?:\.distributed)?\.${REGION}\.aliyuncs\.com$`) },
  { edition: "enterprise", pattern: new RegExp(String.raw`^(?<instance>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)-registry(?:-vpc)?\.${REGION}\.cr\.aliyuncs\.com$`) },
];

/** The default matchImages: the Personal Edition endpoints, then the Enterprise Edition ones. */
export const ALIBABA_DEFAULT_MATCH_IMAGES: readonly string[] = [
  ...["", "-vpc", "-internal", "-intl", "-intl-vpc", "-intl-internal"].map((variant) => `registry${variant}.*.aliyuncs.com`),
  "*-registry.*.cr.aliyuncs.com",
  "*-registry-vpc.*.cr.aliyuncs.com",
];

/** An Enterprise Edition instance named in the config, for custom domains or to skip the lookup. */
export interface ConfiguredInstance {
  instanceId: string;
  region: string;
}

/** The ACR endpoint a registry host names, or undefined when it is not one. `instances` (by host) wins. */
export function alibabaRegistry(registry: string, instances: Readonly<Record<string, ConfiguredInstance>> = {}): AlibabaRegistry | undefined {
  const host = registry.toLowerCase();
  const configured = Object.entries(instances).find(([name]) => name.toLowerCase() === host)?.[1];
  if (configured) return { host, edition: "enterprise", region: configured.region, instanceId: configured.instanceId };
  if (host.includes(":") || host.includes("/")) return undefined;
  for (const rule of ALIBABA_HOST_RULES) {
    const match = rule.pattern.exec(host);
    if (!match) continue;
    const { region, instance } = match.groups as { region: string; instance?: string };
    return { host, edition: rule.edition, region, ...(instance ? { instanceName: instance } : {}) };
  }
  return undefined;
}

// Which registry hosts are Amazon ECR's, and what a host says about the API to call for it: the
// account and region (private registries), the partition's domain, and the FIPS and dual-stack
// variants. Kept as data, checked by test/fixtures/ecr-cases.json (the upstream ECR plugin's own
// table, kubernetes/cloud-provider-aws cmd/ecr-credential-provider) and test/ecr-hosts.test.ts.
import { parseGoURL, splitHostPort } from "../src/go-url.js";

/** What an ECR registry host tells about the API that issues its credentials. */
export interface EcrRegistryHost {
  kind: "private" | "public";
  /** The 12-digit account that owns a private registry; absent for ECR Public. */
  account?: string;
  /** The API region: the host's own for a private registry, us-east-1 for ECR Public. */
  region: string;
  /** The registry host is a FIPS one, so the API call goes to the FIPS endpoint. */
  fips: boolean;
  /** The registry host is a dual-stack (IPv6) one, so the API call goes to the dual-stack endpoint. */
  dualStack: boolean;
}

/** The domains private ECR registries live under, one per partition and network variant. */
export const ECR_PRIVATE_DOMAINS: ReadonlyArray<{ domain: string; partition: string; dualStack: boolean }> = [
  { domain: "amazonaws.com", partition: "aws, aws-us-gov", dualStack: false },
  { domain: "amazonaws.com.cn", partition: "aws-cn", dualStack: false },
  { domain: "amazonaws.eu", partition: "aws-eusc (EU sovereign cloud)", dualStack: false },
  { domain: "on.aws", partition: "aws, aws-us-gov", dualStack: true },
  { domain: "on.amazonwebservices.com.cn", partition: "aws-cn", dualStack: true },
  { domain: "c2s.ic.gov", partition: "aws-iso", dualStack: false },
  { domain: "sc2s.sgov.gov", partition: "aws-iso-b", dualStack: false },
  { domain: "cloud.adc-e.uk", partition: "aws-iso-e", dualStack: false },
  { domain: "csp.hci.ic.gov", partition: "aws-iso-f", dualStack: false },
];

/** ECR Public's registry hosts; their API lives in us-east-1 only. */
export const ECR_PUBLIC_HOSTS: ReadonlyArray<{ host: string; dualStack: boolean }> = [
  { host: "public.ecr.aws", dualStack: false },
  { host: "ecr-public.aws.com", dualStack: true },
];
export const ECR_PUBLIC_REGION = "us-east-1";

/** The provider's patterns when a config gives none: every real host shape above (EKS's kubelet config, plus the dual-stack and EU sovereign ones). */
export const ECR_DEFAULT_MATCH_IMAGES: readonly string[] = [
  "*.dkr.ecr.*.amazonaws.com",
  "*.dkr.ecr-fips.*.amazonaws.com",
  "*.dkr.ecr.*.amazonaws.com.cn",
  "*.dkr.ecr.*.amazonaws.eu",
  "*.dkr.ecr-fips.*.amazonaws.eu",
  "*.dkr-ecr.*.on.aws",
  "*.dkr-ecr-fips.*.on.aws",
  "*.dkr-ecr.*.on.amazonwebservices.com.cn",
  "*.dkr.ecr.*.c2s.ic.gov",
  "*.dkr.ecr.*.sc2s.sgov.gov",
  "*.dkr.ecr.*.cloud.adc-e.uk",
  "*.dkr.ecr.*.csp.hci.ic.gov",
  ...ECR_PUBLIC_HOSTS.map((entry) => entry.host),
];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
// The upstream plugin's grammar, with the domain list above in place of its literal alternation:
// 12-digit account, "dkr.ecr" or "dkr-ecr", optional "-fips", a region label that may hold '-' and '_'.
const PRIVATE_HOST = new RegExp(
  `^(\\d{12})\\.dkr[.-]ecr(-fips)?\\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\\.(${ECR_PRIVATE_DOMAINS.map((d) => escape(d.domain)).join("|")})$`);

/** The host (without port) the upstream plugin reads from an image reference: Go's URL Hostname() of `https://<image>`; "" where Go cannot parse it. */
export function registryHostOfImage(image: string): string {
  const url = parseGoURL(image.includes("://") ? image : `https://${image}`);
  if (!url) return "";
  const [host] = splitHostPort(url.host);
  return host;
}

/** The ECR registry a host names, or undefined for a host that is not an ECR registry's. */
export function ecrRegistryFromHost(host: string): EcrRegistryHost | undefined {
  const publicHost = ECR_PUBLIC_HOSTS.find((entry) => entry.host === host);
  if (publicHost) return { kind: "public", region: ECR_PUBLIC_REGION, fips: false, dualStack: publicHost.dualStack };
  const match = PRIVATE_HOST.exec(host);
  if (!match) return undefined;
  const [, account, fips, region, domain] = match;
  const dualStack = ECR_PRIVATE_DOMAINS.find((entry) => entry.domain === domain)!.dualStack;
  return { kind: "private", account: account!, region: region!, fips: fips !== undefined, dualStack };
}

// The built-in provider types. The core looks types up here and never imports a provider by name;
// each entry loads its module only when a run asks that provider (a config validated before, and a
// request the credential cache answers, need none). A new provider is one new file in providers/
// and one entry here.
import type { AnyProviderDefinition } from "../src/provider.js";
import { ACR_DEFAULT_MATCH_IMAGES } from "./acr-hosts.js";
import { ALIBABA_DEFAULT_MATCH_IMAGES } from "./alibaba-hosts.js";
import { ECR_DEFAULT_MATCH_IMAGES } from "./ecr-hosts.js";
import { GCP_REGISTRY_KEYS } from "./gcp-registries.js";

export interface BuiltinProvider {
  load(): Promise<{ default: AnyProviderDefinition }>;
  /**
   * What the definition says of these (a test holds the two equal), known here without loading
   * it: a config noted as valid is read without loading its providers (src/config-snapshot.ts).
   */
  cacheable: boolean;
  defaultMatchImages?: readonly string[];
}

export const builtinProviders: Readonly<Record<string, BuiltinProvider>> = {
  dockercfg: { load: () => import("./dockercfg.js"), cacheable: false },
  token: { load: () => import("./token.js"), cacheable: false },
  oauth2: { load: () => import("./oauth2.js"), cacheable: true },
  "credential-helper": { load: () => import("./credential-helper.js"), cacheable: true },
  "kubelet-plugin": { load: () => import("./kubelet-plugin.js"), cacheable: true },
  gcp: { load: () => import("./gcp.js"), cacheable: true, defaultMatchImages: GCP_REGISTRY_KEYS },
  acr: { load: () => import("./acr.js"), cacheable: true, defaultMatchImages: ACR_DEFAULT_MATCH_IMAGES },
  alibaba: { load: () => import("./alibaba.js"), cacheable: true, defaultMatchImages: ALIBABA_DEFAULT_MATCH_IMAGES },
  ecr: { load: () => import("./ecr.js"), cacheable: true, defaultMatchImages: ECR_DEFAULT_MATCH_IMAGES },
};

// The built-in provider types. The core looks types up here and never imports a provider by name;
// each entry loads its module only when a config uses that type. A new provider is one new file
// in providers/ and one line here.
import type { AnyProviderDefinition } from "../src/provider.js";

type Loader = () => Promise<{ default: AnyProviderDefinition }>;

export const builtinProviders: Readonly<Record<string, Loader>> = {
  dockercfg: () => import("./dockercfg.js"),
  token: () => import("./token.js"),
  oauth2: () => import("./oauth2.js"),
  "credential-helper": () => import("./credential-helper.js"),
  "kubelet-plugin": () => import("./kubelet-plugin.js"),
  gcp: () => import("./gcp.js"),
  acr: () => import("./acr.js"),
  alibaba: () => import("./alibaba.js"),
  ecr: () => import("./ecr.js"),
};

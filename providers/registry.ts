// The built-in provider types, each loaded only when a run first needs it: the core looks types up
// here and never imports a provider by name. A new provider is one new file in providers/ and one
// line here. Each line's import() names its file literally: the build finds and defers the files
// these calls import.
import type { AnyProviderDefinition } from "../src/provider.js";

export const builtinProviders: Readonly<Record<string, () => Promise<{ default: AnyProviderDefinition }>>> = {
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

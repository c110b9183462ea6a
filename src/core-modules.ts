// The core modules a built-in provider may import. Each provider is bundled on its own and deferred
// (build.mjs), with its imports of these modules left to be filled in at load time from the running
// core, so that a provider's errors are the core's ProviderError and its http client the core's.
// zod is offered as src/schema.ts, the functions credmux's schemas use, not as the zod/mini
// namespace, which would defeat tree shaking (286 KB in every exec's parse).
import * as deferred from "./deferred.js";
import * as duration from "./duration.js";
import * as errors from "./errors.js";
import * as goUrl from "./go-url.js";
import * as httpClient from "./http-client.js";
import * as imageName from "./image-name.js";
import * as jwt from "./jwt.js";
import * as match from "./match.js";
import * as optionRule from "./option-rule.js";
import * as protocol from "./protocol.js";
import * as provider from "./provider.js";
import * as registryKeys from "./registry-keys.js";
import * as schema from "./schema.js";
import * as secrets from "./secrets.js";
import * as sha256 from "./sha256.js";

/** Module name (the file's name in src/) to the running core's module. */
export const coreModules: Readonly<Record<string, unknown>> = {
  deferred,
  duration,
  errors,
  "go-url": goUrl,
  "http-client": httpClient,
  "image-name": imageName,
  jwt,
  match,
  "option-rule": optionRule,
  protocol,
  provider,
  "registry-keys": registryKeys,
  schema,
  secrets,
  sha256,
};

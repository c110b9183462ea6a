// A registry token as the password under a fixed username: GitHub and GitLab tokens, Harbor and Quay
// robot accounts, JFrog access tokens, or a token some other process mints into a file. The secret
// comes from a file, re-read on every exec so that a rotated mounted secret takes effect at once,
// or from an environment variable of the kubelet's. When the token is a JWT, its `exp` is the expiry.
import path from "node:path";
import * as z from "../src/provider-kit/schema.js";
import { jwtExpiry } from "../src/provider-kit/jwt.js";
import { optionRule } from "../src/provider-kit/option-rule.js";
import { defineProvider, providerError } from "../src/provider.js";
import { readSecretFile } from "../src/provider-kit/secret-file.js";

const TYPE = "token";
const fail = providerError(TYPE);

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    username: "The username the registry expects beside the token (often anything non-empty).",
    secretFile: "A file holding the token, re-read every exec (a rotated mounted secret works); relative to the config file. Exactly one of `secretFile` and `secretEnv`.",
    secretEnv: "An environment variable of the kubelet's holding the token.",
  },
  options: () => z.strictObject({
    /** The username the registry expects beside the token (often anything non-empty). */
    username: z.string().check(z.minLength(1)),
    /** A file holding the token; relative to the config file. */
    secretFile: z.optional(z.string().check(z.minLength(1))),
    /** An environment variable holding the token. */
    secretEnv: z.optional(z.string().check(z.minLength(1))),
  }).check(optionRule((value) => (value.secretFile === undefined) !== (value.secretEnv === undefined),
    "expected exactly one of secretFile and secretEnv, where the token comes from")),
  // Not cached by credmux: reading one file is cheaper than the cache, and a rotated secret must
  // take effect at the next exec. A JWT's expiry still bounds the kubelet's cacheDuration.
  cacheable: false,
  create(opts, env) {
    const file = opts.secretFile === undefined ? undefined : path.resolve(env.configDir, opts.secretFile);
    const source = file === undefined ? `environment variable ${opts.secretEnv}` : `secretFile ${file}`;
    return async (request) => {
      const secret = file === undefined ? secretFromEnv(opts.secretEnv!, env.env) : readSecretFile(fail, "secretFile", file);
      env.secrets.addCredential(opts.username, secret);
      const expiresAt = jwtExpiry(secret);
      if (expiresAt && expiresAt.getTime() <= env.now()) {
        throw fail(`the JWT in ${source} expired at ${expiresAt.toISOString()}`, "check whatever rotates this token");
      }
      return { auth: { [request.registry]: { username: opts.username, password: secret } }, ...(expiresAt ? { expiresAt } : {}) };
    };
  },
});

function secretFromEnv(name: string, environment: Readonly<Record<string, string | undefined>>): string {
  const value = environment[name];
  if (value === undefined) throw fail(`environment variable ${name} is not set`, "set it in the kubelet's environment (a systemd drop-in), or use secretFile");
  const secret = value.trim();
  if (secret === "") throw fail(`environment variable ${name} is empty`, "it must hold the registry token itself");
  return secret;
}

// Docker credential helpers (docker-credential-NAME: ecr-login, gcr, acr-env, pass, secretservice,
// or an operator's own), which the kubelet itself cannot use: the helper is the one named in the
// config, or the one docker would use, from `credHelpers` or `credsStore` of the docker config
// file found on the kubelet's search path. Protocol (docker/docker-credential-helpers): argument
// `get`, the server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout; an error is a
// message on stdout and a non-zero exit.
import fs from "node:fs";
import path from "node:path";
import * as z from "../src/provider-kit/schema.js";
import { childEnvironment, describeExit, lastLine, runChild } from "../src/provider-kit/child-process.js";
import { optionRule } from "../src/provider-kit/option-rule.js";
import { defineProvider, providerError, ProviderError, type ProviderEnv } from "../src/provider.js";
import { kubeletSearchPaths } from "./dockercfg.js";

const TYPE = "credential-helper";
const fail = providerError(TYPE);
const MAX_CONFIG_BYTES = 1 << 20;

/** The helper's answer when it holds nothing for the server: "no credentials", not a failure (credentials/error.go). */
export const NOT_FOUND_MESSAGE = "credentials not found in native keychain";
/** The username by which a helper says that Secret is an identity (refresh) token, not a password. */
const IDENTITY_TOKEN_USERNAME = "<token>";
/** The server URL docker hands helpers for a registry, where it is not the registry's host itself. */
export const HELPER_SERVER_URLS: Readonly<Record<string, string>> = {
  "docker.io": "https://index.docker.io/v1/",
};

const options = () => {
  const envVar = z.strictObject({ name: z.string().check(z.minLength(1)), value: z.string() });

  return z.strictObject({
    /** The helper: a suffix (`ecr-login` runs docker-credential-ecr-login from the PATH) or a path to the program. */
    helper: z.optional(z.string().check(z.minLength(1))),
    /** Docker config files whose credHelpers/credsStore name the helper; default: the kubelet's search path. */
    dockerConfigFiles: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
    /** The kubelet's --root-dir, first in its search path. */
    rootDir: z.optional(z.string().check(z.minLength(1))),
    /** Variables added to the helper's environment (which is otherwise credmux's own), as in the kubelet's config. */
    env: z.optional(z.array(envVar)),
  }).check(optionRule((value) => value.helper === undefined || (value.dockerConfigFiles === undefined && value.rootDir === undefined),
    "helper names the helper itself; dockerConfigFiles and rootDir are for finding it in docker config files instead"));
};
type Options = z.infer<ReturnType<typeof options>>;

interface HelperChoice {
  /** What to run: a path, or a docker-credential-NAME found on the PATH. */
  command: string;
  /** Where the helper was named, for messages. */
  from: string;
}

/** What docker would run for a helper name: docker-credential-NAME, looked up on the PATH. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    helper: "The docker credential helper: a suffix (`ecr-login` runs `docker-credential-ecr-login` from the PATH) or a path to the program. Without it, the helper that `credHelpers`/`credsStore` of the docker config files name.",
    dockerConfigFiles: "Docker config files whose `credHelpers`/`credsStore` name the helper. Default: the kubelet's search path.",
    rootDir: "The kubelet's `--root-dir`, first in that search path. Default `/var/lib/kubelet`.",
    env: "Variables added to the helper's environment (otherwise credmux's own), as in the kubelet's config.",
    "env[].name": "The variable's name.",
    "env[].value": "Its value.",
  },
  options,
  // Cached: a helper is a child process of unknown cost (ecr-login calls AWS, gcloud takes a second),
  // and without an expiry from it the answer lives for defaults.cacheDuration, as long as the
  // kubelet would keep it anyway.
  cacheable: true,
  create(opts, env) {
    return async (request, signal) => {
      // A path is the operator's to give, in credmux's own config; a docker config names a helper only.
      const choice = opts.helper
        ? { command: opts.helper.includes("/") ? path.resolve(env.configDir, opts.helper) : `docker-credential-${opts.helper}`, from: "the provider's helper option" }
        : chooseFromDockerConfig(opts, request.registry, env);
      if (!choice) return { auth: {} };
      const { command } = choice;
      const what = `${command} (from ${choice.from})`;
      const serverUrl = HELPER_SERVER_URLS[request.registry] ?? request.registry;
      const childEnv = childEnvironment(env.env, opts.env, env.secrets);
      const result = await runChild({ command, args: ["get"], env: childEnv, stdin: serverUrl, signal, what });
      const stdout = result.stdout.trim();
      if (result.status !== 0) {
        if (stdout === NOT_FOUND_MESSAGE) {
          env.log.debug("the credential helper has no credentials for this registry", { helper: command, serverUrl });
          return { auth: {} };
        }
        // Helpers print their error on stdout (the protocol); stderr is where a crash says why.
        const message = lastLine(stdout, env.secrets) || lastLine(result.stderr, env.secrets);
        throw fail(`${what} ${describeExit(result)} for ${serverUrl}${message ? `: ${message}` : ""}`,
          "run the helper by hand as the kubelet's user: printf SERVER | docker-credential-NAME get");
      }
      const credential = parseHelperAnswer(stdout, what);
      env.secrets.addCredential(credential.Username, credential.Secret);
      if (credential.Username === IDENTITY_TOKEN_USERNAME) {
        env.log.warn("skipping the credential helper's answer: it is an identity token (username <token>), which the kubelet cannot pass to the container runtime", {
          helper: command, serverUrl,
        });
        return { auth: {} };
      }
      return { auth: { [request.registry]: { username: credential.Username, password: credential.Secret } } };
    };
  },
});

/** The helper docker would use for registry: credHelpers[registry] beats credsStore, from the first config file that names either. */
function chooseFromDockerConfig(opts: Options, registry: string, env: ProviderEnv): HelperChoice | undefined {
  const files = opts.dockerConfigFiles
    ? opts.dockerConfigFiles.map((file) => path.resolve(env.configDir, file))
    : kubeletSearchPaths(opts.rootDir ?? "/var/lib/kubelet", env.cwd, env.env.HOME).json;
  for (const file of files) {
    const document = readDockerConfig(file, opts.dockerConfigFiles !== undefined);
    if (document === undefined) continue;
    const helpers = document.credHelpers;
    if (helpers !== undefined && (typeof helpers !== "object" || helpers === null || Array.isArray(helpers))) {
      throw fail(`${file}: credHelpers: expected an object of registry to helper name`);
    }
    for (const [key, name] of Object.entries((helpers ?? {}) as Record<string, unknown>)) {
      if (helperKeyRegistry(key) !== registry) continue;
      if (typeof name !== "string" || name === "") throw fail(`${file}: credHelpers[${JSON.stringify(key)}]: expected a helper name`);
      return dockerHelper(name, `credHelpers[${JSON.stringify(key)}]`, file);
    }
    if (document.credsStore !== undefined) {
      if (typeof document.credsStore !== "string") throw fail(`${file}: credsStore: expected a helper name`);
      if (document.credsStore !== "") return dockerHelper(document.credsStore, "credsStore", file);
    }
    // Like the kubelet, only the first config.json found on the search path counts.
    if (!opts.dockerConfigFiles) break;
  }
  env.log.debug("no credential helper is configured for this registry in the docker config files", { registry, files });
  return undefined;
}

/**
 * The helper a docker config names, run as docker runs it: docker-credential-NAME from the PATH.
 * Anything but a plain name is refused, never run as a path: whoever can write a docker config on
 * the search path (a user's $HOME, the kubelet's working directory) must not choose what root runs.
 */
function dockerHelper(name: string, field: string, file: string): HelperChoice {
  if (!HELPER_NAME.test(name)) {
    const shown = name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}...` : JSON.stringify(name);
    throw fail(`${file}: ${field}: ${shown} is not a helper name: docker runs docker-credential-NAME from the PATH, and a name has only letters, digits, ".", "_" and "-"`,
      "a helper named by its path is allowed only in the helper option of credmux's own config");
  }
  return { command: `docker-credential-${name}`, from: `${field === "credsStore" ? "credsStore" : "credHelpers"} of ${file}` };
}

/** The registry a credHelpers key names: docker accepts a bare host, host:port or a URL; Docker Hub under any of its names. */
export function helperKeyRegistry(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, "").split("/")[0]!.toLowerCase();
  return host === "index.docker.io" || host === "registry-1.docker.io" ? "docker.io" : host;
}

function readDockerConfig(file: string, listed: boolean): Record<string, unknown> | undefined {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (stat.size > MAX_CONFIG_BYTES) throw fail(`${file}: ${stat.size} bytes, larger than the ${MAX_CONFIG_BYTES}-byte limit`);
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !listed) return undefined;
    if (code === "ENOENT") throw fail(`${file}: no such file`, "the file is listed in dockerConfigFiles; create it or remove it from the list");
    throw fail(`${file}: cannot read it (${code ?? (error as Error).message})`, "check the file's owner and mode: the kubelet runs credmux as its own user");
  }
  let document: unknown;
  try {
    document = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw fail(`${file}: malformed JSON (${(error as Error).message})`);
  }
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw fail(`${file}: expected a docker config.json object`);
  }
  return document as Record<string, unknown>;
}

interface HelperCredential {
  ServerURL?: string;
  Username: string;
  Secret: string;
}

/** The helper's `get` answer; never quotes what it printed, which may hold the secret. */
function parseHelperAnswer(stdout: string, what: string): HelperCredential {
  let answer: unknown;
  try {
    answer = JSON.parse(stdout);
  } catch {
    throw fail(`${what} printed ${stdout === "" ? "nothing" : `${stdout.length} characters that are not JSON`} on stdout, expected {"ServerURL","Username","Secret"}`,
      "check that the program speaks the docker credential-helper protocol");
  }
  const fields = answer as Record<string, unknown> | null;
  if (typeof fields !== "object" || fields === null || Array.isArray(fields) || typeof fields.Username !== "string" || typeof fields.Secret !== "string") {
    throw fail(`${what} printed JSON without string Username and Secret fields`, "check that the program speaks the docker credential-helper protocol");
  }
  if (fields.Secret === "") throw fail(`${what} answered an empty Secret`, "check what the helper holds for this registry");
  return fields as unknown as HelperCredential;
}

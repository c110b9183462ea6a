// Static docker config files: `config.json` (`{"auths": {...}}`) and legacy `.dockercfg` (the bare
// map), as the kubelet reads them for its node keyring, plus any files an operator lists (Harbor
// robot accounts, any private registry). Files are read on every call, so a rotated file takes
// effect at the next kubelet cache miss.
import path from "node:path";
import * as z from "../src/provider-kit/schema.js";
import { jsonSyntaxReason } from "../src/errors.js";
import { normalizeAuthKey } from "../src/match.js";
import { readSmallFile, type SmallFileError } from "../src/provider-kit/small-file.js";
import { defineProvider, providerError, type ProviderEnv } from "../src/provider.js";
import type { AuthEntry } from "../src/protocol.js";

const TYPE = "dockercfg";
const fail = providerError(TYPE);
const MAX_FILE_BYTES = 1 << 20;

const options = () => z.strictObject({
  /** Files merged in order (an earlier file's entry wins); default: the kubelet's search paths. */
  files: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  /** The kubelet's --root-dir, first in its search path. */
  rootDir: z.optional(z.string().check(z.minLength(1))),
});
type Options = z.infer<ReturnType<typeof options>>;

/** A file found and read, with the entries it contributes, in file order. */
interface DockerConfigFile {
  file: string;
  entries: Array<[key: string, credential: AuthEntry]>;
}

/** The kubelet's search order (pkg/credentialprovider/config.go): config.json in four places, then .dockercfg in four. */
export function kubeletSearchPaths(rootDir: string, cwd: string, home: string | undefined): { json: string[]; legacy: string[] } {
  const homes = home ? [home] : [];
  return {
    json: [rootDir, cwd, ...homes.map((h) => path.join(h, ".docker")), "/.docker"].map((dir) => path.join(dir, "config.json")),
    legacy: [rootDir, cwd, ...homes, "/"].map((dir) => path.join(dir, ".dockercfg")),
  };
}

function readJson(file: string): unknown | undefined {
  let text: string | undefined;
  try {
    text = readSmallFile(file, MAX_FILE_BYTES);
  } catch (error) {
    const { message, code } = error as SmallFileError;
    throw fail(`${file}: ${message}`, code ? "check the file's owner and mode: the kubelet runs credmux as its own user" : undefined);
  }
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw fail(`${file}: malformed JSON (${jsonSyntaxReason(error)})`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonPath(parent: string, key: string, field?: string): string {
  return `${parent}[${JSON.stringify(key)}]${field ? `.${field}` : ""}`;
}

/** Turns one file's parsed JSON into entries; `legacy` files are the bare map without `auths`. */
export function dockerConfigEntries(file: string, document: unknown, legacy: boolean, env: Pick<ProviderEnv, "log" | "secrets">): DockerConfigFile {
  if (!isObject(document)) throw fail(`${file}: expected a JSON object at the top level, found ${Array.isArray(document) ? "a list" : typeof document}`);
  let map: Record<string, unknown>;
  let parent: string;
  if (legacy) {
    map = document;
    parent = "";
  } else {
    if (document.auths === undefined) return { file, entries: [] };
    if (!isObject(document.auths)) throw fail(`${file}: auths: expected an object of registry entries, found ${typeof document.auths}`);
    map = document.auths;
    parent = "auths";
  }
  const entries: DockerConfigFile["entries"] = [];
  for (const [key, value] of Object.entries(map)) {
    const at = jsonPath(parent, key);
    if (!isObject(value)) throw fail(`${file}: ${at}: expected an object with auth or username/password`);
    const credential = decodeEntry(file, at, value);
    if (value.identitytoken !== undefined || value.registrytoken !== undefined) {
      if (!credential || credential.username === "" || credential.username === "<token>") {
        env.log.debug("skipping a docker config entry with an identity or registry token: the kubelet can pass on only a username and password", { file, key });
        continue;
      }
    }
    if (!credential || (credential.username === "" && credential.password === "")) {
      env.log.debug("skipping a docker config entry without credentials", { file, key });
      continue;
    }
    env.secrets.addCredential(credential.username, credential.password);
    entries.push([key, credential]);
  }
  return { file, entries };
}

function decodeEntry(file: string, at: string, value: Record<string, unknown>): AuthEntry | undefined {
  for (const field of ["auth", "username", "password"] as const) {
    if (value[field] !== undefined && typeof value[field] !== "string") {
      throw fail(`${file}: ${at}.${field}: expected a string, found ${value[field] === null ? "null" : typeof value[field]}`);
    }
  }
  const auth = value.auth as string | undefined;
  if (auth) {
    // As the kubelet's decodeDockerConfigFieldAuth: standard base64 of "user:password", split at the first colon.
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(auth)) throw fail(`${file}: ${at}.auth: expected base64 of "username:password", found characters outside base64`);
    const decoded = Buffer.from(auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) throw fail(`${file}: ${at}.auth: expected base64 of "username:password", found no ':' after decoding`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/\0+$/, "") };
  }
  if (value.username === undefined && value.password === undefined) return undefined;
  return { username: (value.username as string | undefined) ?? "", password: (value.password as string | undefined) ?? "" };
}

/** Reads the files in order; for the kubelet's search path, the first one found of each kind, as the kubelet does. */
function readConfiguredFiles(opts: Options, env: ProviderEnv): DockerConfigFile[] {
  if (opts.files) {
    const files: DockerConfigFile[] = [];
    for (const listed of opts.files) {
      const file = path.resolve(env.configDir, listed);
      const document = readJson(file);
      if (document === undefined) throw fail(`${file}: no such file`, "the file is listed in the provider's files; create it or remove it from the list");
      files.push(dockerConfigEntries(file, document, isLegacyFile(file, document), env));
    }
    return files;
  }
  const search = kubeletSearchPaths(opts.rootDir ?? "/var/lib/kubelet", env.cwd, env.env.HOME);
  for (const [paths, legacy] of [[search.json, false], [search.legacy, true]] as const) {
    for (const file of paths) {
      const document = readJson(file);
      if (document === undefined) continue;
      env.log.debug("using the docker config file found on the kubelet's search path", { file });
      return [dockerConfigEntries(file, document, legacy, env)];
    }
  }
  // Warn, not debug: the answer is empty and the exec succeeds, so without this line a 401 is all an operator sees.
  const searched = [...search.json, ...search.legacy];
  env.log.warn(`no docker config file on the kubelet's search path (searched ${searched.join(", ")}): answering no credentials; list the file in the provider's files`, { paths: searched });
  return [];
}

/** A listed file is legacy .dockercfg unless it has an `auths` object (config.json's only required shape). */
function isLegacyFile(file: string, document: unknown): boolean {
  if (path.basename(file) === ".dockercfg") return true;
  return !(isObject(document) && ("auths" in document || "credHelpers" in document || "credsStore" in document));
}

export default defineProvider({
  type: TYPE,
  optionDescriptions: {
    files: "Docker `config.json` or legacy `.dockercfg` files, merged in order (an earlier file's entry wins), re-read every exec; relative to the config file. Default: the kubelet's search path (`{rootDir}/config.json`, `./config.json`, `$HOME/.docker/config.json`, `/.docker/config.json`, then the same for `.dockercfg`).",
    rootDir: "The kubelet's `--root-dir`, first in that search path. Default `/var/lib/kubelet`.",
  },
  options,
  // Reading the files is cheaper than the cache, and a rotated file must take effect at once.
  cacheable: false,
  create(opts, env) {
    return async () => {
      const auth: Record<string, AuthEntry> = {};
      const seen = new Set<string>();
      for (const { file, entries } of readConfiguredFiles(opts, env)) {
        for (const [key, credential] of entries) {
          const normalized = normalizeAuthKey(key);
          if (normalized === undefined) {
            env.log.warn("ignoring a docker config key the kubelet cannot parse", { file, key });
            continue;
          }
          // The answer is one JSON object, so it cannot carry two credentials for one key: the earlier file wins.
          if (seen.has(normalized)) {
            env.log.debug("a docker config key is shadowed by an earlier entry", { file, key });
            continue;
          }
          seen.add(normalized);
          auth[key] = credential;
        }
      }
      return { auth };
    };
  },
});

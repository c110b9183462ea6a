// Finds a provider type's definition: a built-in one through providers/registry.ts, or an operator's
// own module named by path (`type: module`, `module: /path/to/provider.js`).
import path from "node:path";
import { builtinProviders } from "../providers/registry.js";
import { bootHost } from "./startup/boot-host.js";
import { CredmuxError, describeError } from "./errors.js";
import type { ProviderDefinition } from "./provider.js";
import { untrustedPathProblem } from "./trusted-path.js";

interface Where {
  /** The config file's directory, against which a relative module path is resolved. */
  dir: string;
  /** The config file as the operator named it, and the entry's path in it, for messages. */
  shown: string;
  at: string;
}

/** Returns the definition for `type`; for `type: module`, loads `fields.module`. */
export async function loadProviderDefinition(type: string, fields: Record<string, unknown>, where: Where): Promise<ProviderDefinition<unknown>> {
  const fail = (reason: string, hint?: string) => new CredmuxError("config", `config ${where.shown}: ${where.at}: ${reason}`, hint);
  if (type === "module") {
    const file = fields.module;
    if (typeof file !== "string" || file === "") throw fail(`module: missing, expected the path of a provider module for type "module"`);
    return loadExternalModule(path.resolve(where.dir, file), fail);
  }
  if (!Object.hasOwn(builtinProviders, type)) {
    // The value itself is not quoted: a secret put in the wrong field must not reach the error line.
    throw fail(`type: unknown provider type, expected one of ${[...Object.keys(builtinProviders), "module"].map((t) => `"${t}"`).join(", ")}`);
  }
  return checkDefinition(unwrapDefault((await builtinProviders[type]!()).default) as ProviderDefinition<unknown>, type, fail);
}

async function loadExternalModule(file: string, fail: (reason: string, hint?: string) => CredmuxError): Promise<ProviderDefinition<unknown>> {
  let loaded: unknown;
  try {
    // require() works from the bundle and from a single executable alike; an ES module needs import().
    // node:url is required here, not at the top: most execs load no external module.
    if (/\.mjs$/.test(file)) {
      refuseUntrusted(file, fail);
      const { pathToFileURL } = require("node:url") as typeof import("node:url");
      const url = pathToFileURL(file).href;
      // In the bundle and the single executable this code was compiled by boot.ts, which imports for it.
      loaded = await (bootHost()?.importModule(url) ?? import(url));
    } else {
      // Module.createRequire through this module's own constructor: require("node:module") would
      // load Node's public module API, 0.4 ms of every exec with an external provider.
      const { createRequire } = module.constructor as typeof import("node:module");
      const requireFrom = createRequire(file);
      // The path as configured (whose directories hold any symlink on it), and the file require()
      // resolves it to (through symlinks, with an extension added or a directory's main file).
      const resolved = requireFrom.resolve(file);
      refuseUntrusted(file, fail);
      if (resolved !== file) refuseUntrusted(resolved, fail);
      loaded = requireFrom(resolved);
    }
  } catch (error) {
    if (error instanceof CredmuxError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") throw fail(`module ${file}: no such file`);
    throw fail(`module ${file}: cannot load it: ${describeError(error)}`);
  }
  return checkDefinition(unwrapDefault(loaded) as ProviderDefinition<unknown>, `module ${file}`, fail);
}

/** Refuses code that someone other than root or credmux's user could change (src/trusted-path.ts). */
function refuseUntrusted(file: string, fail: (reason: string, hint?: string) => CredmuxError): void {
  const problem = untrustedPathProblem(file);
  if (problem) throw fail(`module ${file}: refusing to load it: ${problem.reason}`, problem.fix);
}

/** The definition behind CommonJS/ES module interop: module.exports, its default, or a transpiled module's default.default. */
function unwrapDefault(loaded: unknown): unknown {
  let value = loaded;
  for (let depth = 0; depth < 2 && typeof value === "object" && value !== null && typeof (value as { create?: unknown }).create !== "function" && "default" in value; depth++) {
    value = (value as { default: unknown }).default;
  }
  return value;
}

function checkDefinition(definition: ProviderDefinition<unknown>, what: string, fail: (reason: string, hint?: string) => CredmuxError): ProviderDefinition<unknown> {
  if (typeof definition !== "object" || definition === null || typeof definition.create !== "function" || typeof definition.type !== "string") {
    throw fail(`${what} does not export a provider definition`, "the module must export { type, create(options, env) }, optionally options and defaultMatchImages");
  }
  // options() is called when options are first checked (src/provider-options.ts), not here: loading builds no schema.
  const options = definition.options as unknown;
  if (options !== undefined && typeof options !== "function" && typeof (options as { safeParse?: unknown } | null)?.safeParse !== "function") {
    throw fail(`${what}: its options schema has no safeParse()`, "export options as a function returning a zod schema, or leave options out");
  }
  return definition;
}

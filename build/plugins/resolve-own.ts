// The file a relative import of the project's own code resolves to, for plugins that act on where
// an import leads rather than on how it is written ("../src/errors.js" is src/errors.ts).
import path from "node:path";
import type { OnResolveArgs, PluginBuild } from "esbuild";

/** Marks the plugin's own resolve calls, which its onResolve callback must let through. */
const RESOLVING = Symbol("credmux-resolving");

/** Whether `args` is a plugin's own call through resolveOwnImport, which the plugin must leave alone. */
export function isOwnResolve(args: OnResolveArgs): boolean {
  return args.pluginData === RESOLVING;
}

/** The file `args` (a relative import in the project's code) leads to; undefined for imports from packages, or that do not resolve. */
export async function resolveOwnImport(b: PluginBuild, args: OnResolveArgs): Promise<string | undefined> {
  if (isOwnResolve(args) || args.importer.split(path.sep).includes("node_modules")) return undefined;
  const resolved = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: RESOLVING });
  return resolved.errors.length > 0 || resolved.external ? undefined : resolved.path;
}

/** `file`'s path from `root` with "/" separators, or undefined when it is not inside `dir` of the root. */
export function pathInside(root: string, dir: string, file: string): string | undefined {
  const relative = path.relative(root, file).split(path.sep).join("/");
  return relative.startsWith(`${dir}/`) ? relative : undefined;
}

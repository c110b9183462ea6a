// The start-up loader (src/startup/boot.ts), the only code Node compiles from source on every exec.
import path from "node:path";
import { bundleCjs } from "./esbuild-cjs.js";
import { builtinDefaultsPlugin } from "./plugins/builtin-defaults.js";
import type { Project } from "./project.js";

/** Where the loader finds the main code: the bundle's main section, or the single executable's "main" asset. */
export type BootVariant = "bundle" | "sea";

/** The loader for `variant`, naming the code caches with the build's `id` (build/build-id.ts). */
export function bundleBootLoader(project: Project, { variant, id, minify = true }: { variant: BootVariant; id: string; minify?: boolean }): Promise<string> {
  return bundleCjs({
    entryPoints: [path.join(project.root, "src", "startup", "boot.ts")],
    minify,
    charset: "ascii",
    ...(variant === "bundle" ? { banner: { js: "#!/usr/bin/env node" } } : {}),
    define: { __CREDMUX_BOOT__: JSON.stringify(variant), __CREDMUX_BUILD_ID__: JSON.stringify(id) },
    plugins: [builtinDefaultsPlugin],
  });
}

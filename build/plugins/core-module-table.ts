// The core's module table, generated: every src/ module that some deferred chunk imports, as the
// running main code's own instance, by path from the root. src/startup/deferred.ts hands a chunk's
// require("credmux-core:src/NAME.ts") the table's entry.
import type { Plugin } from "esbuild";

export const CORE_MODULE_TABLE = { specifier: "credmux-core-modules", exportName: "coreModules" } as const;
const NAMESPACE = "credmux-core-module-table";

/** The table's source: a namespace import of each module (so that all its exports stay in the main code). */
export function coreModuleTableSource(modules: readonly string[]): string {
  const imports = modules.map((file, i) => `import * as core${i} from ${JSON.stringify(`./${file}`)};`);
  const entries = modules.map((file, i) => `  ${JSON.stringify(file)}: core${i},`);
  return [...imports, `export const ${CORE_MODULE_TABLE.exportName} = {`, ...entries, "};"].join("\n");
}

/** Resolves the table's specifier to the table of `modules` (paths from `root`, such as "src/errors.ts"). */
export function coreModuleTablePlugin(root: string, modules: readonly string[]): Plugin {
  return {
    name: "credmux-core-module-table",
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${CORE_MODULE_TABLE.specifier}$`) }, (args) => ({ path: args.path, namespace: NAMESPACE }));
      b.onLoad({ filter: /.*/, namespace: NAMESPACE }, () => ({ contents: coreModuleTableSource(modules), resolveDir: root, loader: "js" }));
    },
  };
}

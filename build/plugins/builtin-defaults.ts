// `import fs from "node:fs"` becomes, in an esbuild CommonJS bundle, a copy of every export of the
// module, made once per importing file: some 30 copies, a millisecond of every exec. Through this
// plugin it is one plain require() per built-in, shared by all. The project's own code imports
// built-ins by default import only (a named import fails the build here); packages' imports are
// left to esbuild.
import path from "node:path";
import type { Plugin } from "esbuild";

export const builtinDefaultsPlugin: Plugin = {
  name: "credmux-builtin-defaults",
  setup(b) {
    // Import statements only: the require() in the module this makes is left to esbuild (external).
    b.onResolve({ filter: /^node:/ }, (args) => (args.kind === "import-statement" && !args.importer.split(path.sep).includes("node_modules")
      ? { path: args.path, namespace: "credmux-builtin" }
      : undefined));
    b.onLoad({ filter: /.*/, namespace: "credmux-builtin" }, (args) => ({ contents: `export default require(${JSON.stringify(args.path)});`, loader: "js" }));
  },
};

// Builds credmux: `node build.mjs [flags]`, the flags as build/main.ts reads them. The build is
// TypeScript (build/), which this Node cannot run as it is: this file bundles build/main.ts with
// esbuild into .build/, then runs it.
import { build } from "esbuild";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(root, ".build", "build-main.mjs");
// Written beside, then renamed: another build (test/sea.test.ts runs one) may be importing it.
const tmp = `${out}.tmp-${process.pid}`;
await build({
  entryPoints: [path.join(root, "build", "main.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  outfile: tmp,
  logLevel: "error",
});
fs.renameSync(tmp, out);
const { main } = await import(pathToFileURL(out).href);
await main(process.argv.slice(2), root);

// Builds credmux (build.mjs runs this with the command line's flags):
//   node build.mjs           dist/credmux.cjs: one CommonJS bundle with a node shebang, mode 0755 (build/bundle.ts)
//   node build.mjs --tests   the bundle, plus src/ providers/ test/ build/ transpiled to .build/ for node --test
//   node build.mjs --docs    as --tests, then docs/config-reference.md and docs/config.schema.json from the schemas
//   node build.mjs --sea     the bundle, plus dist/credmux-linux-x64 and -arm64: single executables
//                            (build/sea.ts); --sea-arch=x64 builds only the named ones,
//                            --sea-only builds them from the dist/credmux.cjs already there
//   --no-minify              readable function names, for `node --cpu-prof`
//   node build.mjs --image [--arch x64|arm64] [--executable FILE] [--out DIR]
//                            only the DaemonSet's image, from the single executable already built (build/image.ts)
import path from "node:path";
import { buildBundle } from "./bundle.js";
import { writeDocs } from "./docs.js";
import { buildImageCommand } from "./image.js";
import { readProject } from "./project.js";
import { buildSea } from "./sea.js";
import { SEA_ARCHES } from "./sea-node.js";
import { transpileTree } from "./test-tree.js";

/** Runs the build `argv` asks for, in the project at `root`. */
export async function main(argv: readonly string[], root: string): Promise<void> {
  const project = readProject(root);
  const flags = new Set(argv);
  if (flags.has("--image")) {
    buildImageCommand(project, argv);
    return;
  }
  // --sea-only: the single executables from the dist/credmux.cjs already built (test/sea.test.ts).
  const bundle = flags.has("--sea-only") ? path.join(root, "dist", "credmux.cjs") : await buildBundle(project, { minify: !flags.has("--no-minify") });
  if (flags.has("--tests") || flags.has("--docs")) await transpileTree(project);
  if (flags.has("--docs")) await writeDocs(project);
  if (flags.has("--sea") || flags.has("--sea-only")) {
    const archFlag = argv.find((arg) => arg.startsWith(SEA_ARCH_FLAG));
    await buildSea(project, bundle, { arches: archFlag ? archFlag.slice(SEA_ARCH_FLAG.length).split(",").filter(Boolean) : SEA_ARCHES });
  }
}

const SEA_ARCH_FLAG = "--sea-arch=";

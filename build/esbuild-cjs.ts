// esbuild as every part of the bundle uses it: one CommonJS file for Node, held in memory.
import { build, type BuildOptions } from "esbuild";

/** The oldest Node credmux runs on (package.json "engines"). */
export const TARGET = "node20";

/** The CommonJS text of one entry (`entryPoints` or `stdin`), bundled. */
export async function bundleCjs(options: BuildOptions): Promise<string> {
  const result = await build({ bundle: true, platform: "node", format: "cjs", target: TARGET, write: false, logLevel: "error", ...options });
  const outputs = result.outputFiles ?? [];
  if (outputs.length !== 1) throw new Error(`build: esbuild wrote ${outputs.length} files for one entry`);
  return outputs[0]!.text;
}

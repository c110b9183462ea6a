// The tree the tests run: src/ providers/ test/ build/ transpiled file by file to CommonJS in
// .build/, for node --test. There an import() is a plain require(): nothing is deferred.
import fs from "node:fs";
import path from "node:path";
import { transform } from "esbuild";
import { TARGET } from "./esbuild-cjs.js";
import type { Project } from "./project.js";

const TREE_DIRS = ["src", "providers", "test", "build"];

function listTs(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** Replaces .build/ with the transpiled tree. */
export async function transpileTree(project: Project): Promise<void> {
  const outRoot = path.join(project.root, ".build");
  fs.rmSync(outRoot, { recursive: true, force: true });
  const files = TREE_DIRS.flatMap((dir) => listTs(path.join(project.root, dir)));
  await Promise.all(files.map(async (file) => {
    const result = await transform(fs.readFileSync(file, "utf8"), {
      loader: "ts",
      format: "cjs",
      target: TARGET,
      sourcefile: file,
      define: { __CREDMUX_VERSION__: JSON.stringify(project.version) },
    });
    const out = path.join(outRoot, path.relative(project.root, file)).replace(/\.ts$/, ".js");
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, result.code);
  }));
}


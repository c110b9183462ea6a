// docs/config-reference.md and docs/config.schema.json, from the transpiled tree (build/test-tree.ts):
// made by src/reference/config-reference.ts, which test/config-reference.test.ts holds them equal to.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { Project } from "./project.js";

interface ConfigReference {
  renderConfigReference(): Promise<string>;
  configJsonSchema(): Promise<unknown>;
}

/** Writes both files; the tree must be transpiled first. */
export async function writeDocs(project: Project): Promise<void> {
  const requireFromRoot = createRequire(path.join(project.root, "package.json"));
  const reference = requireFromRoot(path.join(project.root, ".build", "src", "reference", "config-reference.js")) as ConfigReference;
  fs.mkdirSync(path.join(project.root, "docs"), { recursive: true });
  fs.writeFileSync(path.join(project.root, "docs", "config-reference.md"), await reference.renderConfigReference());
  fs.writeFileSync(path.join(project.root, "docs", "config.schema.json"), `${JSON.stringify(await reference.configJsonSchema(), null, 2)}\n`);
  console.error("docs: wrote docs/config-reference.md and docs/config.schema.json");
}

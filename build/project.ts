// The project a build works on: where it is, and what its package.json says of it.
import fs from "node:fs";
import path from "node:path";

export interface Project {
  /** The repository's root directory: the one holding package.json, src/ and providers/. */
  root: string;
  version: string;
  description: string;
  license: string;
}

/** The project at `root`. */
export function readProject(root: string): Project {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string; description: string; license: string };
  return { root, version: pkg.version, description: pkg.description, license: pkg.license };
}

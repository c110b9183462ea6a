// Where tests find the repository: they run transpiled from .build/test/, two levels below it.
import path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
export const FIXTURES = path.join(REPO_ROOT, "test", "fixtures");
export const BUNDLE = path.join(REPO_ROOT, "dist", "credmux.cjs");

// End-to-end tests drive real programs (Debian's docker-registry, skopeo, htpasswd, openssl, the
// ECR credential helper). In CI they must be there (.ci/run installs them), so a missing one fails
// the test; on a developer's machine without them the test is skipped, saying what to install.
import fs from "node:fs";
import path from "node:path";

/** The programs of `names` that are not on the PATH. */
export function missingTools(names: readonly string[], pathList = process.env.PATH ?? ""): string[] {
  return names.filter((name) => !pathList.split(path.delimiter).some((dir) => {
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  }));
}

/**
 * undefined when every tool is there; outside CI, the skip message when some are missing.
 * In CI (CI=true) a missing tool throws, so the test fails instead of passing by skipping.
 */
export function skipUnlessTools(names: readonly string[], packages: string): string | undefined {
  const missing = missingTools(names);
  if (missing.length === 0) return undefined;
  const message = `${missing.join(", ")} not installed (apt-get install ${packages})`;
  if (process.env.CI === "true") throw new Error(`CI must run this test, but ${message}`);
  return message;
}

// Secrets kept in files (a mounted Kubernetes secret, a projected token, a file an operator rotates):
// read afresh on every call, so that a rotation takes effect at the next kubelet cache miss, and
// trimmed, because such files usually end with a newline the registry would reject.
import fs from "node:fs";
import { ProviderError } from "./provider.js";

const MAX_SECRET_BYTES = 64 << 10;

/** The file's content without surrounding whitespace; a ProviderError (prefixed `type: what FILE`) if missing, unreadable, empty or huge. */
export function readSecretFile(type: string, what: string, file: string): string {
  const fail = (reason: string, hint?: string) => new ProviderError(`${type}: ${what} ${file}: ${reason}`, hint);
  let text: string;
  try {
    const fd = fs.openSync(file, "r");
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile()) throw fail("not a regular file");
      if (stat.size > MAX_SECRET_BYTES) throw fail(`${stat.size} bytes, larger than the ${MAX_SECRET_BYTES}-byte limit for a secret`);
      text = fs.readFileSync(fd, "utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    if (error instanceof ProviderError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw fail("no such file", "check the path (relative paths are resolved against the credmux config's directory) and that the secret is mounted");
    throw fail(`cannot read it (${code ?? (error as Error).message})`, "check the file's owner and mode: the kubelet runs credmux as its own user");
  }
  const secret = text.trim();
  if (secret === "") throw fail("empty", "the file must hold the secret itself; check what writes or mounts it");
  return secret;
}

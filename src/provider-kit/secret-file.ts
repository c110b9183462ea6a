// Secrets kept in files (a mounted Kubernetes secret, a projected token, a file an operator rotates):
// read afresh on every call, so that a rotation takes effect at the next kubelet cache miss, and
// trimmed, because such files usually end with a newline the registry would reject.
import type { ProviderError, ProviderErrorFactory } from "../provider.js";
import { readSmallFile, type SmallFileError } from "./small-file.js";

const MAX_SECRET_BYTES = 64 << 10;

/**
 * The file's content without surrounding whitespace; the provider's error (`what FILE: reason`,
 * e.g. `secretFile /etc/token: empty`) if missing, unreadable, empty or huge.
 */
export function readSecretFile(fail: ProviderErrorFactory, what: string, file: string): string {
  const problem = (reason: string, hint?: string): ProviderError => fail(`${what} ${file}: ${reason}`, hint);
  let text: string | undefined;
  try {
    text = readSmallFile(file, MAX_SECRET_BYTES);
  } catch (error) {
    const { message, code } = error as SmallFileError;
    throw problem(message, code ? "check the file's owner and mode: the kubelet runs credmux as its own user" : undefined);
  }
  if (text === undefined) throw problem("no such file", "check the path (relative paths are resolved against the credmux config's directory) and that the secret is mounted");
  const secret = text.trim();
  if (secret === "") throw problem("empty", "the file must hold the secret itself; check what writes or mounts it");
  return secret;
}

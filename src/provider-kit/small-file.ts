// Reading the small files credmux is configured with (docker configs, secret files): a regular file
// only, bounded in size, read whole and synchronously (node:fs/promises would load Node's stream
// modules on every exec).
import fs from "node:fs";

/** Why a file could not be read, phrased to follow "FILE: " in a message. */
export class SmallFileError extends Error {
  /** The errno code when the system refused (EACCES, EISDIR...); undefined for the checks here. */
  readonly code: string | undefined;

  constructor(reason: string, code?: string) {
    super(reason);
    this.name = "SmallFileError";
    this.code = code;
  }
}

/** The file's text; undefined if there is no such file; a SmallFileError if it is not a regular file, too big or unreadable. */
export function readSmallFile(file: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    throw new SmallFileError(`cannot read it (${code ?? (error as Error).message})`, code);
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new SmallFileError("not a regular file");
    if (stat.size > maxBytes) throw new SmallFileError(`${stat.size} bytes, larger than the ${maxBytes}-byte limit`);
    return fs.readFileSync(fd, "utf8");
  } catch (error) {
    if (error instanceof SmallFileError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SmallFileError(`cannot read it (${code ?? (error as Error).message})`, code);
  } finally {
    fs.closeSync(fd);
  }
}

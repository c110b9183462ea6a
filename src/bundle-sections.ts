// The bundle's layout (build.mjs writes it):
//   the start-up loader (boot.ts), the only code Node compiles;
//   the main code, in a block comment, so that V8 only skims it, with every "*/" in it written "*\0/";
//   each deferred module (src/deferred.ts) on a comment line `//@credmux-deferred NAME br DATA`;
//   a last line `//@credmux-sections NAME OFFSET LENGTH ...` giving where each section's text is
//   ("main", and "br DATA" for each deferred module).
// A reader reads the last line and the bytes of the sections it needs, never the whole file: the
// bundle is 400 KB, and reading and scanning it whole cost a deferred module's load about a millisecond.
import fs from "node:fs";

/** The index line's largest size: about 30 bytes per section, for a dozen sections. */
const INDEX_BYTES = 4096;
const INDEX = /\n\/\/@credmux-sections ([^\n]*)\n$/;

/**
 * The texts of the sections `names` of the bundle `file`, as bytes (ASCII: build.mjs checks);
 * undefined when the file has no index line. A name the index does not hold is absent from the result.
 */
export function readSections(file: string, names: readonly string[]): Map<string, Buffer> | undefined {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(INDEX_BYTES, size));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    const index = INDEX.exec(tail.toString("latin1"));
    if (!index) return undefined;
    const fields = index[1]!.split(" ");
    const found = new Map<string, Buffer>();
    for (let i = 0; i + 2 < fields.length; i += 3) {
      const [name, offset, length] = [fields[i]!, Number(fields[i + 1]), Number(fields[i + 2])];
      if (!names.includes(name) || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset + length > size) continue;
      const bytes = Buffer.allocUnsafe(length);
      if (fs.readSync(fd, bytes, 0, length, offset) === length) found.set(name, bytes);
    }
    return found;
  } finally {
    fs.closeSync(fd);
  }
}

/** The main code of the bundle `file`, or undefined if it has none. */
export function readMainSection(file: string): string | undefined {
  const bytes = readSections(file, ["main"])?.get("main");
  if (bytes === undefined) return undefined;
  // ASCII: latin1 is a plain copy, where utf8 would be decoded.
  const text = bytes.toString("latin1");
  return text.includes("*\0/") ? text.replaceAll("*\0/", "*/") : text;
}

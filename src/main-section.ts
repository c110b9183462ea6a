// The main code's place in the bundle (build.mjs writes it): a block comment after the start-up
// loader (boot.ts), so that V8 only skims it when Node compiles the file, with every "*/" in it
// written "*\0/"; and a last line `//@credmux-main-at OFFSET LENGTH` giving its bytes, so that the
// loader reads just those and compiles them itself, with a code cache.
import fs from "node:fs";

const TRAILER_BYTES = 64;

/** The main code of the bundle `file`, or undefined if it has none. */
export function readMainSection(file: string): string | undefined {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(TRAILER_BYTES, size));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    const at = /\n\/\/@credmux-main-at (\d+) (\d+)\n$/.exec(tail.toString("latin1"));
    if (!at) return undefined;
    const [offset, length] = [Number(at[1]), Number(at[2])];
    if (offset + length > size) return undefined;
    const body = Buffer.allocUnsafe(length);
    if (fs.readSync(fd, body, 0, length, offset) !== length) return undefined;
    // ASCII (build.mjs checks): latin1 is a plain copy, where utf8 would be decoded.
    const text = body.toString("latin1");
    return text.includes("*\0/") ? text.replaceAll("*\0/", "*/") : text;
  } finally {
    fs.closeSync(fd);
  }
}

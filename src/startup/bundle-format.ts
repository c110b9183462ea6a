// The bundle's layout, in one place: the build writes it (formatBundle), the single executable's
// build takes it apart (parseBundle), and start-up reads the sections it needs (readSections).
//   the start-up loader (boot.ts), the only code Node compiles;
//   the main code, in a block comment, so that V8 only skims it, with every "*/" in it written "*\0/";
//   each deferred module (src/startup/deferred.ts) on a comment line `//@credmux-deferred NAME ENCODING DATA`;
//   a last line `//@credmux-sections NAME OFFSET LENGTH ...` giving where each section's text is
//   ("main", and "ENCODING DATA" for each deferred module).
// A reader reads the last line and the bytes of the sections it needs, never the whole file: the
// bundle is 400 KB, and reading and scanning it whole cost a deferred module's load about a millisecond.
// The reader is part of the start-up loader, which Node compiles from source on every exec: it
// imports node:fs alone, and the build's functions here are left out of the loader by esbuild.
import fs from "node:fs";

/** The section of the main code; every other section is a deferred module. */
export const MAIN_SECTION = "main";

/** The index line's largest size: about 30 bytes per section, for a hundred sections. */
const INDEX_BYTES = 4096;
const INDEX_PREFIX = "\n//@credmux-sections ";
const INDEX = /\n\/\/@credmux-sections ([^\n]*)\n$/;
const MAIN_OPEN = "\n/*@credmux-main\n";
const MAIN_CLOSE = "\n*/";
const DEFERRED_PREFIX = "\n//@credmux-deferred ";
/** A comment cannot hold "*\/": the main code writes it so (esbuild escapes NUL in code, so no other NUL is there). */
const ESCAPED_COMMENT_END = "*\0/";
/**
 * A deferred module's encodings. A large one is brotli, then base64: a third of its size, and every
 * exec reads the whole bundle and V8 skims its comments. A small one is base64 alone: decoding it
 * needs no node:zlib, whose load costs an exec that keeps no decompressed text (cache.dir "") more
 * than skimming the few kilobytes compression would save.
 */
const BROTLI = "br";
const BASE64 = "b64";
/** The size from which a deferred module is compressed. */
const COMPRESS_FROM_BYTES = 16 * 1024;
/** What a section name may hold: it sits between spaces on the index line, and names SEA assets and code caches. */
const SECTION_NAME = /^[\w@/.:-]+$/;

/**
 * The bundle's text: the loader, the main code and the deferred sections (each name's "br DATA",
 * from deferredSectionText), then the index. Throws when the main code cannot be held so: it must
 * be ASCII, so that byte offsets are character offsets and a reader decodes it as latin1, a plain copy.
 */
export function formatBundle(loader: string, main: string, deferred: ReadonlyArray<readonly [name: string, text: string]>): string {
  if (/[^\x00-\x7f]/.test(loader)) throw new Error("the loader is not ASCII");
  if (main.includes("\0")) throw new Error("the main code holds a NUL character, which its section uses as the escape");
  const nonAscii = /[^\x00-\x7f]/.exec(main);
  if (nonAscii) throw new Error(`the main code holds ${JSON.stringify(nonAscii[0])} near ${JSON.stringify(main.slice(nonAscii.index - 40, nonAscii.index))}; write it as an escape`);
  const head = `${loader.replace(/\n$/, "")}${MAIN_OPEN}`;
  const body = main.replaceAll("*/", ESCAPED_COMMENT_END);
  const index: Array<[string, number, number]> = [[MAIN_SECTION, head.length, body.length]];
  let text = `${head}${body}${MAIN_CLOSE}`;
  for (const [name, section] of deferred) {
    if (!SECTION_NAME.test(name) || name === MAIN_SECTION) throw new Error(`the deferred section name ${JSON.stringify(name)} cannot be written in the index`);
    if (!/^[\x20-\x7e]*$/.test(section)) throw new Error(`the deferred section ${name} is not one line of ASCII`);
    text += `${DEFERRED_PREFIX}${name} `;
    index.push([name, text.length, section.length]);
    text += section;
  }
  return `${text}${INDEX_PREFIX}${index.flat().join(" ")}\n`;
}

/** The text of a deferred section holding the module `code`: compressed with `compress` (brotli) when it is large. */
export function deferredSectionText(code: string, compress: (bytes: Buffer) => Uint8Array): string {
  const bytes = Buffer.from(code);
  if (bytes.length < COMPRESS_FROM_BYTES) return `${BASE64} ${bytes.toString("base64")}`;
  const compressed = compress(bytes);
  return `${BROTLI} ${Buffer.from(compressed.buffer, compressed.byteOffset, compressed.length).toString("base64")}`;
}

/** The module's code a deferred section's text holds, `decompress` (brotli) undoing the build's compress; undefined for an encoding this build does not read. */
export function deferredSectionSource(text: string, decompress: (data: Buffer) => Uint8Array): string | undefined {
  const [encoding, data] = text.split(" ");
  if (data === undefined) return undefined;
  if (encoding === BASE64) return Buffer.from(data, "base64").toString("utf8");
  if (encoding !== BROTLI) return undefined;
  const code = decompress(Buffer.from(data, "base64"));
  return Buffer.from(code.buffer, code.byteOffset, code.length).toString("utf8");
}

/** A whole bundle's text taken apart by its index: the main code, and each deferred section's text by name. */
export function parseBundle(bundle: string): { main: string; deferred: Map<string, string> } {
  const index = INDEX.exec(bundle);
  if (!index) throw new Error("the bundle does not end with its //@credmux-sections line");
  let main: string | undefined;
  const deferred = new Map<string, string>();
  for (const [name, offset, length] of indexEntries(index[1]!)) {
    const text = bundle.slice(offset, offset + length);
    if (name === MAIN_SECTION) main = unescapeMain(text);
    else deferred.set(name, text);
  }
  if (main === undefined) throw new Error("the bundle's index has no main section");
  return { main, deferred };
}

function indexEntries(line: string): Array<[name: string, offset: number, length: number]> {
  const fields = line.split(" ");
  const entries: Array<[string, number, number]> = [];
  for (let i = 0; i + 2 < fields.length; i += 3) entries.push([fields[i]!, Number(fields[i + 1]), Number(fields[i + 2])]);
  return entries;
}

function unescapeMain(text: string): string {
  return text.includes(ESCAPED_COMMENT_END) ? text.replaceAll(ESCAPED_COMMENT_END, "*/") : text;
}

/**
 * The texts of the sections `names` of the bundle `file`, as bytes (ASCII: formatBundle checks);
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
    const found = new Map<string, Buffer>();
    for (const [name, offset, length] of indexEntries(index[1]!)) {
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
  const bytes = readSections(file, [MAIN_SECTION])?.get(MAIN_SECTION);
  // ASCII: latin1 is a plain copy, where utf8 would be decoded.
  return bytes === undefined ? undefined : unescapeMain(bytes.toString("latin1"));
}

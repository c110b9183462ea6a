// The checksum of a V8 code cache, checked before V8 sees the data: V8 itself does not checksum a
// code cache (outside debug builds), and deserializes a corrupted one into a crash or, worse, into
// other code. Not a defence against an attacker (one who can write the file is this user already),
// but against a disk or a copy that flipped bits.
//
// It runs once per exec over the main code's cache (about 200 KB), before anything could be
// optimised: in JavaScript the interpreter takes about 2 ms for it, a tenth of a bare Node start.
// The same loop as a hand-assembled WebAssembly function, compiled and run, takes about 0.4 ms.
// Two multiplicative lanes over little-endian 32-bit words; `checksumReference` in
// test/code-cache.test.ts is the same function in JavaScript, and the test holds them equal.

/** The function's WebAssembly module; the listing beside each line is its text format. */
const CHECKSUM_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, //      (module
  0x01, 0x08, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x02, 0x7f, 0x7f, // (type (func (param i32 i32) (result i32 i32)))
  0x02, 0x08, 0x01, 0x01, 0x65, 0x01, 0x6d, 0x02, 0x00, 0x00, // (import "e" "m" (memory 0))
  0x03, 0x02, 0x01, 0x00, //                              (func $h (type 0) ...)
  0x07, 0x05, 0x01, 0x01, 0x68, 0x00, 0x00, //            (export "h" (func $h))
  0x0a, 0x53, 0x01, 0x51, //                              code: one body of 81 bytes
  0x01, 0x03, 0x7f, //                                    params $end $a; locals $b $i $w: i32
  0x41, 0xb9, 0xf3, 0xdd, 0xf1, 0x79, 0x21, 0x02, //      $b = 0x9e3779b9
  0x02, 0x40, //                                          block
  0x20, 0x03, 0x20, 0x00, 0x4f, 0x0d, 0x00, //              br_if 0 ($i >= $end)
  0x03, 0x40, //                                            loop
  0x20, 0x03, 0x28, 0x02, 0x00, 0x21, 0x04, //                $w = i32.load($i)
  0x20, 0x01, 0x20, 0x04, 0x73, 0x41, 0x93, 0x83, 0x80, 0x08, 0x6c, 0x21, 0x01, // $a = ($a ^ $w) * 0x01000193
  0x20, 0x02, 0x20, 0x04, 0x73, 0x20, 0x02, 0x41, 0x05, 0x77, 0x6a, //   ($b ^ $w) + rotl($b, 5)
  0x41, 0xeb, 0x94, 0xaf, 0xaf, 0x78, 0x6c, 0x21, 0x02, //      $b = ... * 0x85ebca6b
  0x20, 0x03, 0x41, 0x04, 0x6a, 0x22, 0x03, 0x20, 0x00, 0x49, 0x0d, 0x00, // br_if 0 (($i += 4) < $end)
  0x0b, //                                                  end loop
  0x0b, //                                                end block
  0x20, 0x01, 0x20, 0x02, //                              return $a $b
  0x0b, //                                              end func
]);

const PAGE_BYTES = 65536;

// The part of the WebAssembly global used here: @types/node leaves it to the DOM library.
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** The checksum of `bytes` as two 32-bit numbers (the code cache file's header holds both). */
export function codeCacheChecksum(bytes: Uint8Array): [number, number] {
  const words = bytes.length >>> 2;
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes.length / PAGE_BYTES)) });
  new Uint8Array(memory.buffer).set(bytes);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(CHECKSUM_WASM), { e: { m: memory } });
  const checksum = instance.exports.h as (end: number, seed: number) => [number, number];
  let [a, b] = checksum(words * 4, 0x811c9dc5 ^ bytes.length);
  for (let i = words * 4; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i]!, 0x01000193);
    b = Math.imul(b ^ bytes[i]!, 0x85ebca6b);
  }
  return [a >>> 0, (b ^ (b >>> 16)) >>> 0];
}

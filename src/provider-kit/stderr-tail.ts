// The end of a child's stderr, bounded, in whole lines only. A line whose head was dropped could
// begin inside a secret, and the tail of a secret is not something a mask can recognise: such a
// line is dropped whole.

const NEWLINE = 0x0a;

/** Keeps the last at most `maxBytes` bytes of what is pushed, starting at the start of a line. */
export class StderrTail {
  readonly #maxBytes: number;
  #kept = Buffer.alloc(0);
  /** The head of the line being written was dropped: the rest of it is dropped too. */
  #inDroppedLine = false;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Adds one chunk of output. */
  push(chunk: Buffer): void {
    let rest = chunk;
    if (this.#inDroppedLine) {
      const newline = rest.indexOf(NEWLINE);
      if (newline < 0) return;
      rest = rest.subarray(newline + 1);
      this.#inDroppedLine = false;
    }
    const all = Buffer.concat([this.#kept, rest]);
    if (all.length <= this.#maxBytes) {
      this.#kept = all;
      return;
    }
    const from = all.length - this.#maxBytes;
    if (all[from - 1] === NEWLINE) {
      this.#kept = all.subarray(from);
      return;
    }
    const newline = all.indexOf(NEWLINE, from);
    this.#kept = newline < 0 ? Buffer.alloc(0) : all.subarray(newline + 1);
    this.#inDroppedLine = newline < 0;
  }

  /** What is kept, as text. */
  text(): string {
    return this.#kept.toString("utf8");
  }
}

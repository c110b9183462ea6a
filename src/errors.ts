// Errors are values with a reason and a hint, thrown where the fact is known and printed once,
// on one line, at the top (src/cli.ts). Nothing else in credmux prints an error.

/** What a failure is about; the CLI maps every kind to exit status 1, the kubelet's "no credentials". */
export type ErrorKind = "request" | "config" | "provider" | "usage" | "internal";

export class CredmuxError extends Error {
  readonly kind: ErrorKind;
  /** What the operator should check next; printed after the reason. */
  readonly hint: string | undefined;

  constructor(kind: ErrorKind, reason: string, hint?: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = "CredmuxError";
    this.kind = kind;
    this.hint = hint;
  }

  /** The single line printed on stderr: the reason, then the hint in parentheses; `mask` runs before newlines are folded, so a multi-line secret is still found. */
  toLine(mask: (text: string) => string = (text) => text): string {
    return oneLine(mask(this.hint ? `${this.message} (${this.hint})` : this.message));
  }
}

/** Wraps anything thrown into one line of text, without a stack trace; `mask` runs before folding. */
export function describeError(error: unknown, mask: (text: string) => string = (text) => text): string {
  if (error instanceof CredmuxError) return error.toLine(mask);
  if (error instanceof Error) return oneLine(mask(`${error.name === "Error" ? "" : error.name + ": "}${error.message}`));
  return oneLine(mask(String(error)));
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

/**
 * JSON.parse's reason without the excerpt V8 quotes ("Unexpected token 'h', "...hunter2..." is not
 * valid JSON"): the text around a syntax error in a docker config or a request is often a secret,
 * and the file was never parsed, so nothing knows to mask it.
 */
export function jsonSyntaxReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // V8: `Unexpected token 'x', ..."excerpt"... is not valid JSON`; keep what precedes the excerpt.
  return message.endsWith("is not valid JSON") && message.includes(", ") ? message.slice(0, message.indexOf(", ")) : message;
}

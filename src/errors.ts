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

  /** The single line printed on stderr: the reason, then the hint in parentheses. */
  toLine(): string {
    const line = this.hint ? `${this.message} (${this.hint})` : this.message;
    return line.replace(/[\r\n]+/g, " ");
  }
}

/** Wraps anything thrown into one line of text, without a stack trace. */
export function describeError(error: unknown): string {
  if (error instanceof CredmuxError) return error.toLine();
  if (error instanceof Error) return `${error.name === "Error" ? "" : error.name + ": "}${error.message}`.replace(/[\r\n]+/g, " ");
  return String(error).replace(/[\r\n]+/g, " ");
}

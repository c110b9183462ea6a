// Every secret credmux touches (passwords, tokens, the service-account token) is remembered here for
// the life of one run, so that anything headed for a log line or an error message can be scrubbed of
// it, whatever field or sentence it ended up in.

const MASK = "***";
/** Shorter values are too likely to occur by chance in ordinary text to be masked usefully. */
const MIN_SECRET_LENGTH = 4;

export class SecretSet {
  readonly #values = new Set<string>();

  /** Remembers a secret, and its base64 `user:secret` forms, so they are masked from now on. */
  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    this.#values.add(value);
  }

  /** Remembers a username/password pair and the docker `auth` field made from them. */
  addCredential(username: string, password: string): void {
    this.add(password);
    if (password.length >= MIN_SECRET_LENGTH) this.add(Buffer.from(`${username}:${password}`).toString("base64"));
  }

  get size(): number {
    return this.#values.size;
  }

  /** Returns the text with every remembered secret replaced by ***; longest first, so none leaks in part. */
  mask(text: string): string {
    if (this.#values.size === 0) return text;
    let masked = text;
    for (const secret of [...this.#values].sort((a, b) => b.length - a.length)) {
      if (masked.includes(secret)) masked = masked.split(secret).join(MASK);
    }
    return masked;
  }
}

/** Shows that a value is set without showing it: its length only. */
export function maskedValue(value: string): string {
  return value === "" ? "(empty)" : `${MASK}(${value.length} chars)`;
}

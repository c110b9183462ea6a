// Every secret credmux touches (passwords, tokens, the service-account token) is remembered here for
// the life of one run, so that anything headed for a log line or an error message can be scrubbed of
// it, whatever field or sentence it ended up in. A secret is remembered with the forms credmux
// itself writes it in (a Basic header, a form body, a JSON request), because an endpoint or a child
// that echoes its request prints those forms, not the raw value.

const MASK = "***";
/** Shorter values are too likely to occur by chance in ordinary text to be masked usefully. */
const MIN_SECRET_LENGTH = 4;
/** What a bounded text ends with where it was cut. */
const CUT_MARK = "...";

export class SecretSet {
  readonly #values = new Set<string>();
  /** The values longest first (so none leaks in part), sorted again only after an add. */
  #sorted: string[] | undefined;

  /** Remembers a secret and its encoded forms (JSON-escaped, URL- and form-encoded), so they are masked from now on. */
  add(value: string | undefined): void {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    for (const form of encodedForms(value)) this.#values.add(form);
    this.#sorted = undefined;
  }

  /** Remembers a username/password pair: the password, and the base64 `user:password` of docker `auth` fields and Basic headers. */
  addCredential(username: string, password: string): void {
    if (password.length < MIN_SECRET_LENGTH) return;
    this.add(password);
    this.add(base64(`${username}:${password}`));
    // RFC 6749 2.3.1: an OAuth client's id and secret are form-encoded before they are joined for HTTP Basic.
    this.add(base64(`${formEncode(username)}:${formEncode(password)}`));
  }

  get size(): number {
    return this.#values.size;
  }

  /** Returns the text with every remembered secret replaced by ***; longest first, so none leaks in part. */
  mask(text: string): string {
    if (this.#values.size === 0) return text;
    let masked = text;
    for (const secret of this.#longestFirst()) {
      if (masked.includes(secret)) masked = masked.split(secret).join(MASK);
    }
    return masked;
  }

  /**
   * The text masked, then bounded to `max` characters (and "..."). Masking comes first, so a secret
   * the cut falls into is masked whole; an end that begins a remembered secret (the text was cut
   * before it reached credmux) is masked too.
   */
  maskAndBound(text: string, max: number): string {
    const masked = this.mask(text);
    if (masked.length <= max) return masked;
    // A *** the cut falls into is kept whole, so that it still reads as a mask.
    const lastMask = masked.lastIndexOf(MASK, max - 1);
    const head = masked.slice(0, lastMask >= 0 && lastMask + MASK.length > max ? lastMask + MASK.length : max);
    if (head.length === masked.length) return masked;
    const secretHead = this.#secretHeadAtEnd(head);
    return `${secretHead > 0 ? `${head.slice(0, head.length - secretHead)}${MASK}` : head}${CUT_MARK}`;
  }

  /** The length of the longest end of text that is the beginning of a remembered secret. */
  #secretHeadAtEnd(text: string): number {
    let longest = 0;
    for (const secret of this.#values) {
      // Where the end of text could begin the secret: no further back than the secret is long, less one (a whole one is masked).
      for (let start = Math.max(0, text.length - secret.length + 1); start < text.length - longest; start++) {
        if (text.charCodeAt(start) === secret.charCodeAt(0) && secret.startsWith(text.slice(start))) {
          longest = text.length - start;
          break;
        }
      }
    }
    return longest;
  }

  #longestFirst(): string[] {
    this.#sorted ??= [...this.#values].sort((a, b) => b.length - a.length);
    return this.#sorted;
  }
}

/** The value as it appears raw, in JSON (JavaScript's and Go's escaping), in a URL and in a form body. */
function encodedForms(value: string): string[] {
  const json = JSON.stringify(value).slice(1, -1);
  // Go's encoding/json (the kubelet's and chained plugins' requests) also escapes <, >, & and U+2028/9.
  const goJson = json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return [...new Set([value, json, goJson, encodeURIComponent(value), formEncode(value)])];
}

/** application/x-www-form-urlencoded, as URLSearchParams writes a value. */
function formEncode(text: string): string {
  return new URLSearchParams({ v: text }).toString().slice(2);
}

function base64(text: string): string {
  return Buffer.from(text).toString("base64");
}

/** Shows that a value is set without showing it: its length only. */
export function maskedValue(value: string): string {
  return value === "" ? "(empty)" : `${MASK}(${value.length} chars)`;
}

// One request's deadline (defaults.timeout), started only when something may wait on it: a request
// the credential cache answers never starts one. An AbortController, its first timer and an
// EventTarget listener cost about a millisecond of a 20 ms exec, so the AbortSignal is made on
// first use, the dispatcher's own wait for the deadline is a plain callback rather than a listener
// on the signal, and the timer is set once the promise jobs queued when the clock starts have run:
// a provider that answers without waiting on anything (dockercfg reads its files synchronously)
// has answered by then, and the exec is over before the timer would have been set.
export class Deadline {
  readonly timeoutMs: number;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #stopped = false;
  #passed = false;
  readonly #onPass = new Set<() => void>();

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /** Starts the clock; later calls do nothing. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    // process.nextTick runs after the promise jobs queued now, and before any I/O is waited on.
    process.nextTick(() => {
      if (this.#stopped) return;
      // Not unref()'d: a provider stuck on a promise with no I/O behind it would otherwise let the
      // process exit 0 with no answer.
      this.#timer = setTimeout(() => this.#pass(), this.timeoutMs);
    });
  }

  /** Aborted when the deadline passes; starts the clock. */
  get signal(): AbortSignal {
    this.start();
    this.#controller ??= new AbortController();
    if (this.#passed && !this.#controller.signal.aborted) this.#controller.abort();
    return this.#controller.signal;
  }

  get passed(): boolean {
    return this.#passed;
  }

  /** Calls `callback` once when the deadline passes (at once if it has); returns what cancels it. */
  onPass(callback: () => void): () => void {
    if (this.#passed) {
      callback();
      return () => {};
    }
    this.#onPass.add(callback);
    return () => this.#onPass.delete(callback);
  }

  /** Stops the clock: the request is answered. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#onPass.clear();
  }

  #pass(): void {
    this.#passed = true;
    this.#controller?.abort();
    for (const callback of this.#onPass) callback();
    this.#onPass.clear();
  }
}

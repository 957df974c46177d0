/**
 * Calls `fire` once `quietMs` have passed without a poke, or `maxWaitMs` after the first poke
 * of a burst at the latest: a directory written to without pause (a log file next to the
 * config) must not postpone a reload forever.
 */
export class Debouncer {
  #timer: NodeJS.Timeout | undefined;
  #burstStart: number | undefined;

  constructor(
    private readonly quietMs: number,
    private readonly maxWaitMs: number,
    private readonly fire: () => void,
  ) {}

  poke(): void {
    const now = performance.now();
    this.#burstStart ??= now;
    clearTimeout(this.#timer);
    const delay = Math.max(0, Math.min(this.quietMs, this.#burstStart + this.maxWaitMs - now));
    // unref: a pending check must never be what keeps usher alive after the app is gone.
    this.#timer = setTimeout(() => this.#expire(), delay).unref();
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#burstStart = undefined;
  }

  #expire(): void {
    this.#timer = undefined;
    this.#burstStart = undefined;
    this.fire();
  }
}

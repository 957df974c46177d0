import type { TimerName } from '../lifecycle/types.js';

/** The machine's named timers (drain, grace): setting one replaces it, each fires its name back. */
export class Timers {
  readonly #timers = new Map<TimerName, NodeJS.Timeout>();

  constructor(private readonly fire: (name: TimerName) => void) {}

  set(name: TimerName, ms: number): void {
    this.clear(name);
    this.#timers.set(name, setTimeout(() => {
      this.#timers.delete(name);
      this.fire(name);
    }, ms));
  }

  clear(name: TimerName): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.delete(name);
  }

  clearAll(): void {
    for (const name of [...this.#timers.keys()]) this.clear(name);
  }
}

import type { MetricsCounters } from '../http/metrics.js';

/** What /metrics counts that the state does not hold: signals sent to the app, orphans reaped, app starts. */
export class Counters {
  readonly #signalsForwarded: Record<string, number> = {};
  #orphansReaped = 0;
  #appStarts = 0;

  signalSent(name: string): void {
    this.#signalsForwarded[name] = (this.#signalsForwarded[name] ?? 0) + 1;
  }

  orphansReaped(count: number): number {
    this.#orphansReaped += count;
    return this.#orphansReaped;
  }

  appStarted(): void {
    this.#appStarts += 1;
  }

  read(): MetricsCounters {
    return { signalsForwarded: { ...this.#signalsForwarded }, orphansReaped: this.#orphansReaped, appStarts: this.#appStarts };
  }
}

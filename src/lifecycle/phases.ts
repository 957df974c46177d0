/**
 * The phases of usher's lifecycle, in order: the one list that the machine, the state file,
 * `usher status` and /metrics all use.
 */
export const PHASES = ['initializing', 'running', 'draining', 'stopping', 'exited'] as const;

export type Phase = (typeof PHASES)[number];

/** When usher entered a phase (epoch milliseconds). */
export interface PhaseMark {
  readonly phase: Phase;
  readonly at: number;
}

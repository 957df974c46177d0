import type { State } from '../lifecycle/types.js';

export type ProbeKind = 'startup' | 'ready' | 'live';

/**
 * One answer per probe kind, shared by every way of asking. Liveness holds during start-up and
 * during the drain: a slow start or a graceful stop must never get the container killed.
 */
export function probeAnswer(kind: ProbeKind, state: State): { ok: boolean; reason: string | null } {
  switch (kind) {
    case 'startup':
      return state.phase === 'initializing' ? { ok: false, reason: state.reason } : { ok: true, reason: null };
    case 'ready':
      return { ok: state.ready, reason: state.ready ? null : state.reason };
    case 'live':
      return state.phase === 'exited' ? { ok: false, reason: state.reason } : { ok: true, reason: null };
  }
}

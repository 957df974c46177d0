import { transition } from '../lifecycle/machine.js';
import type { Effect, Event, MachineConfig, State, Unstamped } from '../lifecycle/types.js';

export interface EventQueue {
  /** Stamps the event with the time now and hands it to the machine, after any event before it. */
  readonly dispatch: (event: Unstamped) => void;
  readonly state: () => State;
}

/**
 * Feeds the machine one event at a time, in the order they were reported: an event reported
 * while an effect is being carried out (a spawn failing at once, a check answering) waits until
 * the effects before it are done, so effects always act on the state that asked for them.
 */
export function createEventQueue(initial: State, machine: MachineConfig, perform: (effect: Effect) => void): EventQueue {
  let state = initial;
  const queue: Event[] = [];
  let dispatching = false;
  return {
    state: () => state,
    dispatch(event) {
      queue.push({ ...event, at: Date.now() } as Event);
      if (dispatching) return;
      dispatching = true;
      try {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const step = transition(state, next, machine);
          state = step.state;
          for (const effect of step.effects) perform(effect);
        }
      } finally {
        dispatching = false;
      }
    },
  };
}

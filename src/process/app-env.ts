/**
 * The shim (bin/usher) starts usher's own Node without NODE_OPTIONS, which is meant for the app
 * (an APM agent's --require, --max-old-space-size, --inspect), and parks the value here.
 */
export const PARKED_NODE_OPTIONS = 'USHER_INTERNAL_NODE_OPTIONS';

/** The app's environment: usher's own, with NODE_OPTIONS given back exactly as it came. */
export function appEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  const parked = copy[PARKED_NODE_OPTIONS];
  if (parked !== undefined) {
    copy.NODE_OPTIONS = parked;
    delete copy[PARKED_NODE_OPTIONS];
  }
  return copy;
}

/** True when usher's own Node ran with NODE_OPTIONS, i.e. it was started without the shim. */
export function nodeOptionsAppliedToUsher(env: NodeJS.ProcessEnv): boolean {
  return env.NODE_OPTIONS !== undefined && env.NODE_OPTIONS !== '';
}

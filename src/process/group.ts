/**
 * Sends a signal to a pid (or to a group when negative). A target already gone is not an error;
 * neither is one usher may not signal (EPERM: a member changed user): usher must not die of it.
 */
export function sendSignal(target: number, signal: number): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

/** How a child ended: its exit code, or the signal that killed it (never both). */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: number | null;
}

/** A waitpid(2) status, decoded as WIFEXITED/WEXITSTATUS/WTERMSIG do (the same on every Linux). */
export function decodeWaitStatus(status: number): ExitStatus {
  const signal = status & 0x7f;
  return signal === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal };
}

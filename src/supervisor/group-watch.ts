import { liveGroupMembers } from '../process/group.js';

const GROUP_POLL_MS = 100;

/**
 * After the app exits, what is left of its process group: counted after each reap and every
 * 100 ms (a member's exit may be a grandchild's, which sends usher no SIGCHLD), until empty.
 */
export class GroupWatch {
  #pgid: number | undefined;
  #poll: NodeJS.Timeout | undefined;

  constructor(private readonly report: (live: number) => void) {}

  start(pgid: number): void {
    this.#pgid = pgid;
    this.#poll ??= setInterval(() => this.check(), GROUP_POLL_MS);
    this.check();
  }

  check(): void {
    if (this.#pgid !== undefined) this.report(liveGroupMembers(this.#pgid));
  }

  stop(): void {
    clearInterval(this.#poll);
    this.#pgid = undefined;
  }
}

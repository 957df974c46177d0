import { lazy } from './koffi.js';

const F_SETFD = 2;
const FD_CLOEXEC = 1;

export const fcntl = lazy('int fcntl(int fd, int cmd, ...)');

/** Sets or clears close-on-exec: what decides whether a child inherits the descriptor. */
export function setCloseOnExec(fd: number, on: boolean): boolean {
  return fcntl()(fd, F_SETFD, 'int', on ? FD_CLOEXEC : 0) === 0;
}

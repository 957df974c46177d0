import type { ChildProcess } from 'node:child_process';

/**
 * s6's notification-fd: the app writes a newline to fd N once it is ready. usher reads its end
 * of the pipe until the first newline, then closes it.
 */
export function watchReadyFd(child: ChildProcess, fd: number, ready: () => void): void {
  const stream = child.stdio[fd] as (NodeJS.ReadableStream & { destroy(): void }) | null | undefined;
  if (!stream) return;
  stream.on('error', () => undefined); // the app closing its end early is not usher's failure
  const onData = (chunk: Buffer | string): void => {
    if (!String(chunk).includes('\n')) return;
    stream.off('data', onData);
    stream.destroy();
    ready();
  };
  stream.on('data', onData);
}

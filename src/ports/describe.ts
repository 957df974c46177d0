import type { ListenSocket } from '../sys/sock-diag.js';

/** `127.0.0.1:3000`, `[::]:8080`: a listener as people write it. */
export function describeListener(listener: Pick<ListenSocket, 'address' | 'port'>): string {
  return listener.address.includes(':') ? `[${listener.address}]:${listener.port}` : `${listener.address}:${listener.port}`;
}

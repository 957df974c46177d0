import { endianness } from 'node:os';
import { getSystemErrorMap } from 'node:util';
import { native } from '../../src/sys/koffi.js';

/**
 * A real sd_notify client, independent of src/notify (it shares no code with the server it
 * tests): the same syscalls as libsystemd's sd_notify(), a fresh blocking
 * socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC), one sendto(…, MSG_NOSIGNAL) to NOTIFY_SOCKET's
 * address (a path, or `@name` for the abstract namespace), close(). With `connect: true` it
 * sends as Ruby's Puma and the sd_notify gem do: connect() then send().
 *
 * Blocking, like libsystemd: when the listener's queue is full (net.unix.max_dgram_qlen) it
 * waits, so never use it for more than a few datagrams from the listener's own process.
 */
export function sdNotify(socketPath: string, text: string, options: { connect?: boolean } = {}): void {
  const libc = bindings();
  const address = sockaddrUn(socketPath);
  const payload = Buffer.from(text, 'utf8');
  const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw failure('socket', libc.errno());
  try {
    if (options.connect) {
      if (libc.connect(fd, address, address.length) !== 0) throw failure(`connect ${socketPath}`, libc.errno());
      if (libc.send(fd, payload, payload.length, MSG_NOSIGNAL) !== payload.length) throw failure(`send ${socketPath}`, libc.errno());
    } else if (libc.sendto(fd, payload, payload.length, MSG_NOSIGNAL, address, address.length) !== payload.length) {
      throw failure(`sendto ${socketPath}`, libc.errno());
    }
  } finally {
    libc.close(fd);
  }
}

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;

interface Client {
  errno(): number;
  socket(domain: number, type: number, protocol: number): number;
  connect(fd: number, address: Buffer, length: number): number;
  send(fd: number, buffer: Buffer, length: number, flags: number): number;
  sendto(fd: number, buffer: Buffer, length: number, flags: number, address: Buffer, addressLength: number): number;
  close(fd: number): number;
}

let client: Client | undefined;

function bindings(): Client {
  if (client) return client;
  const { koffi, self: libc } = native();
  client = {
    errno: () => koffi.errno(),
    socket: libc.func('int socket(int, int, int)'),
    connect: libc.func('int connect(int, const void *, uint32_t)'),
    send: libc.func('long send(int, const void *, unsigned long, int)'),
    sendto: libc.func('long sendto(int, const void *, unsigned long, int, const void *, uint32_t)'),
    close: libc.func('int close(int)'),
  };
  return client;
}

/** struct sockaddr_un, trimmed to its used length as libsystemd passes it. */
function sockaddrUn(socketPath: string): Buffer {
  const abstract = socketPath.startsWith('@');
  const name = Buffer.from(abstract ? `\0${socketPath.slice(1)}` : socketPath, 'utf8');
  if (name.length > 107) throw new Error(`sd_notify: socket path too long: ${socketPath}`);
  const address = Buffer.alloc(2 + name.length + (abstract ? 0 : 1));
  if (endianness() === 'LE') address.writeUInt16LE(AF_UNIX, 0);
  else address.writeUInt16BE(AF_UNIX, 0);
  name.copy(address, 2);
  return address;
}

function failure(call: string, errno: number): Error {
  const known = getSystemErrorMap().get(-errno);
  return new Error(`sd_notify: ${call} failed: ${known ? known[0] : `errno ${errno}`}`);
}

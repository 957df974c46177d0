import { ipVersion } from './ip.js';
import { errnoText } from './errno.js';
import { closeDescriptor, openSocket } from './fd.js';
import { declared, lastErrno, lazy, native } from './koffi.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
// Linux's generic values (x86, arm, riscv, loongarch).
const SOL_SOCKET = 1;
const SO_REUSEADDR = 2;
const BACKLOG = 511; // Node's own default

const setsockopt = lazy('int setsockopt(int fd, int level, int name, const void *value, uint32_t length)');
const bind = lazy('int bind(int fd, const void *addr, uint32_t len)');
const listen = lazy('int listen(int fd, int backlog)');

const sockaddrIn = declared((koffi) => koffi.struct({ family: 'uint16', port: 'uint16_be', address: koffi.array('uint8', 4), zero: koffi.array('uint8', 8) }));
const sockaddrIn6 = declared((koffi) => koffi.struct({ family: 'uint16', port: 'uint16_be', flowinfo: 'uint32', address: koffi.array('uint8', 16), scope: 'uint32' }));

/**
 * A listening TCP socket on host:port, made now, synchronously: a port already in use is known
 * before the app starts, where usher may still bail out. Node's server later serves it
 * (`listen({ fd })`). Throws an Error whose message is the errno's (`EADDRINUSE (address already
 * in use)`). `host` is an IP literal.
 */
export function listenTcp(host: string, port: number): number {
  const { koffi } = native();
  const family = ipVersion(host) === 6 ? AF_INET6 : AF_INET;
  const type = family === AF_INET6 ? sockaddrIn6() : sockaddrIn();
  const address = Buffer.alloc(koffi.sizeof(type));
  const bytes = family === AF_INET6 ? ipv6Bytes(host) : host.split('.').map(Number);
  koffi.encode(address, 0, type, family === AF_INET6
    ? { family, port, flowinfo: 0, address: bytes, scope: 0 }
    : { family, port, address: bytes, zero: [0, 0, 0, 0, 0, 0, 0, 0] });
  const fd = openSocket(family, SOCK_STREAM, 0);
  if (fd < 0) throw new Error(errnoText(lastErrno()));
  const one = Buffer.alloc(4);
  koffi.encode(one, 0, 'int', 1);
  for (const step of [() => setsockopt()(fd, SOL_SOCKET, SO_REUSEADDR, one, 4), () => bind()(fd, address, address.length), () => listen()(fd, BACKLOG)]) {
    if (step() === 0) continue;
    const errno = lastErrno();
    closeDescriptor(fd);
    throw new Error(errnoText(errno));
  }
  return fd;
}

/** The 16 bytes of an IPv6 literal (`::`, `::1`, `fe80::1`, `::ffff:127.0.0.1`). */
function ipv6Bytes(host: string): number[] {
  let text = host;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let tail: number[] = [];
  if (v4) {
    tail = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const groups = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const all = rest === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = all.flatMap((group) => [group >> 8, group & 255]);
  if (v4) bytes.splice(12, 4, ...tail);
  return bytes;
}

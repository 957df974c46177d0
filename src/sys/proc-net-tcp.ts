import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import type { ListenSocket } from './sock-diag.js';

/**
 * Listening TCP sockets from /proc/net/tcp and /proc/net/tcp6: the way when the kernel offers no
 * sock_diag (gVisor, a kernel without inet_diag). It costs more, and more with every connection
 * of the namespace, since the kernel prints every socket. Returns undefined when /proc cannot be read.
 */
export function listeningSocketsFromProc(ports?: readonly number[]): ListenSocket[] | undefined {
  const found: ListenSocket[] = [];
  for (const [family, file] of [[4, '/proc/net/tcp'], [6, '/proc/net/tcp6']] as const) {
    let text: string;
    try {
      text = readFileSync(file, 'latin1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && family === 6) continue; // no IPv6 in this kernel
      return undefined;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const fields = line.trim().split(/\s+/);
      if (fields[3] !== '0A') continue; // TCP_LISTEN
      const [hexAddress = '', hexPort = ''] = (fields[1] ?? '').split(':');
      const port = parseInt(hexPort, 16);
      if (ports && !ports.includes(port)) continue;
      const rxQueue = parseInt((fields[4] ?? '').split(':')[1] ?? '0', 16);
      found.push({ family, address: addressOf(hexAddress, family), port, inode: Number(fields[9]), acceptQueue: rxQueue });
    }
  }
  return found;
}

/** The kernel prints each 32-bit word of the address in host byte order, as %08X. */
function addressOf(hex: string, family: 4 | 6): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length / 8; word += 1) {
    const value = parseInt(hex.slice(word * 8, word * 8 + 8), 16);
    const inOrder = [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255];
    bytes.push(...(endianness() === 'LE' ? inOrder.reverse() : inOrder));
  }
  if (family === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, index) => ((bytes[2 * index]! << 8) | bytes[2 * index + 1]!).toString(16));
  const text = groups.join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  if (text.startsWith('0:0:0:0:0:ffff:')) return `::ffff:${bytes.slice(12).join('.')}`;
  return text.replace(/(^|:)0(:0)+(:|$)/, '::');
}

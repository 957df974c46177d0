import { endianness } from 'node:os';
import { errnoText } from './errno.js';
import { closeDescriptor, openSocket } from './fd.js';
import { lastErrno, lazy, native, type Koffi } from './koffi.js';

/**
 * TCP sockets of this network namespace, asked of the kernel through NETLINK_SOCK_DIAG
 * (sock_diag(7)) rather than read from /proc/net/tcp{,6}, which grows with every connection:
 * listeners on given ports (readiness), and for each connection when data last came (tcp_info),
 * for a drain that ends when traffic stops. The kernel filters by state (idiag_states) and local
 * port (id.idiag_sport, or INET_DIAG_REQ_BYTECODE for several), so a LISTEN query never walks the
 * established table. One netlink socket, opened on first use, non-blocking and close-on-exec;
 * every call is synchronous and reads until NLMSG_DONE. Throws SockDiagError.
 *
 * Layouts are koffi's (sizes and offsets from koffi.sizeof/offsetof, requests written with
 * koffi.encode), but replies are read with a DataView at those offsets, in the machine's byte
 * order (network order for the __be fields): koffi.decode costs about 2 µs a struct, 20 ms for
 * a reply of 10,000 sockets.
 */
export interface ListenSocket {
  readonly family: 4 | 6;
  /** As the kernel reports it: "0.0.0.0", "::", "::1", "::ffff:127.0.0.1"… */
  readonly address: string;
  readonly port: number;
  readonly inode: number;
  /** Connections waiting in the accept queue (idiag_rqueue of a listener). */
  readonly acceptQueue: number;
}

export interface Connection {
  /** "local>remote#cookie", e.g. "[::1]:8080>[::1]:40312#4f2a": the socket cookie makes a reused 4-tuple a new key. */
  readonly key: string;
  /** 0 while not accept()ed yet, in SYN_RECV, and once the app has closed its descriptor. */
  readonly inode: number;
  /** The far end, as the kernel prints addresses. */
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * tcpi_last_data_recv: ms since data last arrived, or since the handshake when none has (the
   * kernel sets the time at the handshake); -1 without tcp_info (a connection being set up).
   */
  readonly lastReceiveMs: number;
  /** In TIME_WAIT (closed by this side, kept 60 s by Linux): ms since it closed; null otherwise. */
  readonly closedMsAgo: number | null;
}

export class SockDiagError extends Error {
  constructor(message: string, readonly errno: number) {
    super(message);
    this.name = 'SockDiagError';
  }
}

const AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, SOCK_RAW = 3, NETLINK_SOCK_DIAG = 4, IPPROTO_TCP = 6;
// Linux's generic values (x86, arm, riscv, loongarch); MIPS, SPARC and Alpha differ.
const MSG_TRUNC = 0x20, MSG_DONTWAIT = 0x40, POLLIN = 0x1;
// linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h
const NLM_F_REQUEST = 0x1, NLM_F_DUMP = 0x300, NLMSG_ERROR = 0x2, NLMSG_DONE = 0x3, NLA_TYPE_MASK = 0x3fff;
const SOCK_DIAG_BY_FAMILY = 20, INET_DIAG_REQ_BYTECODE = 1, INET_DIAG_NOCOOKIE = 0xffffffff;
const INET_DIAG_INFO = 2; // asked for with idiag_ext bit 1 << (INET_DIAG_INFO - 1); the reply's attribute is a struct tcp_info
const INET_DIAG_BC_JMP = 1, INET_DIAG_BC_S_EQ = 11; // S_EQ (local port ==) is not in old kernels: dump() then filters here
// include/net/tcp_states.h: bit n of idiag_states asks for state n.
const TCP_ESTABLISHED = 1, TCP_SYN_RECV = 3, TCP_FIN_WAIT1 = 4, TCP_FIN_WAIT2 = 5, TCP_TIME_WAIT = 6, TCP_CLOSE_WAIT = 8, TCP_LAST_ACK = 9, TCP_LISTEN = 10, TCP_CLOSING = 11;
/** Connections that can still receive or are being set up, and those this side closed lately (TIME_WAIT): not LISTEN, SYN_SENT, CLOSE. */
const CONNECTION_STATES = [TCP_ESTABLISHED, TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_TIME_WAIT, TCP_CLOSE_WAIT, TCP_LAST_ACK, TCP_CLOSING].reduce((bits, state) => bits | (1 << state), 0);
/** Linux's TCP_TIMEWAIT_LEN: a connection closed by this side stays in TIME_WAIT for 60 s. */
const TIME_WAIT_MS = 60_000;
/** recv() waits at most this long in all, should the kernel ever not have the next part ready (it always has). */
const STALL_MS = 100;
/** One datagram holds one dump skb, at most 32 KiB (netlink's max_recvmsg_len); MSG_TRUNC catches more. */
const RECV_BUFFER = 64 * 1024;
const HOST_LE = endianness() === 'LE';
/** 12 bytecode bytes a port; nla_len and the jumps are 16-bit. More ports are filtered here only. */
const MAX_BYTECODE_PORTS = 5000;

const sendto = lazy('long sendto(int fd, const void *buf, unsigned long len, int flags, const void *addr, uint32_t addrlen)');
const recv = lazy('long recv(int fd, void *buf, unsigned long len, int flags)');
const poll = lazy('int poll(void *fds, unsigned long nfds, int timeout)');

/** The kernel structs (linux/netlink.h, linux/inet_diag.h, linux/tcp.h) and the offsets read from them. */
function declare(koffi: Koffi) {
  const nlmsghdr = koffi.struct({ nlmsg_len: 'uint32_t', nlmsg_type: 'uint16_t', nlmsg_flags: 'uint16_t', nlmsg_seq: 'uint32_t', nlmsg_pid: 'uint32_t' });
  const nlmsgerr = koffi.struct({ error: 'int32_t', msg: nlmsghdr });
  const nlattr = koffi.struct({ nla_len: 'uint16_t', nla_type: 'uint16_t' });
  const sockaddrNl = koffi.struct({ nl_family: 'uint16_t', nl_pad: 'uint16_t', nl_pid: 'uint32_t', nl_groups: 'uint32_t' });
  const pollfd = koffi.struct({ fd: 'int', events: 'short', revents: 'short' });
  const sockid = koffi.struct({ idiag_sport: 'uint16_be', idiag_dport: 'uint16_be', idiag_src: koffi.array('uint32_be', 4), idiag_dst: koffi.array('uint32_be', 4), idiag_if: 'uint32_t', idiag_cookie: koffi.array('uint32_t', 2) });
  const reqV2 = koffi.struct({ sdiag_family: 'uint8_t', sdiag_protocol: 'uint8_t', idiag_ext: 'uint8_t', pad: 'uint8_t', idiag_states: 'uint32_t', id: sockid });
  const msg = koffi.struct({ idiag_family: 'uint8_t', idiag_state: 'uint8_t', idiag_timer: 'uint8_t', idiag_retrans: 'uint8_t', id: sockid, idiag_expires: 'uint32_t', idiag_rqueue: 'uint32_t', idiag_wqueue: 'uint32_t', idiag_uid: 'uint32_t', idiag_inode: 'uint32_t' });
  const bcOp = koffi.struct({ code: 'uint8_t', yes: 'uint8_t', no: 'uint16_t' });
  const bcBlock = koffi.array(bcOp, 3); // one port's bytecode; every koffi.array() call makes a type that lives forever
  // struct tcp_info (linux/tcp.h) up to tcpi_last_data_recv; its two bitfield bytes are declared as whole bytes.
  const u32s = ['rto', 'ato', 'snd_mss', 'rcv_mss', 'unacked', 'sacked', 'lost', 'retrans', 'fackets', 'last_data_sent', 'last_ack_sent', 'last_data_recv'];
  const tcpInfo = koffi.struct({
    ...Object.fromEntries(['state', 'ca_state', 'retransmits', 'probes', 'backoff', 'options', 'wscale', 'flags'].map((f) => [`tcpi_${f}`, 'uint8_t'])),
    ...Object.fromEntries(u32s.map((f) => [`tcpi_${f}`, 'uint32_t'])),
  });
  const id = (member: string): number => koffi.offsetof(msg, 'id') + koffi.offsetof(sockid, member);
  const kernel = Buffer.alloc(koffi.sizeof(sockaddrNl)); // nl_pid 0: the kernel
  koffi.encode(kernel, 0, sockaddrNl, { nl_family: AF_NETLINK, nl_pad: 0, nl_pid: 0, nl_groups: 0 });
  const errno = (name: string): number => koffi.os.errno[name] ?? -1; // -1: never matches
  return {
    nlmsghdr, nlattr, pollfd, reqV2, bcBlock, kernel,
    E: { EINTR: errno('EINTR'), EAGAIN: errno('EAGAIN'), EIO: errno('EIO'), EMSGSIZE: errno('EMSGSIZE'), EBADMSG: errno('EBADMSG'), EINVAL: errno('EINVAL') },
    errorAt: koffi.offsetof(nlmsgerr, 'error'),
    hdrLen: align4(koffi.sizeof(nlmsghdr)),
    bcOpSize: koffi.sizeof(bcOp),
    nlaHdrLen: align4(koffi.sizeof(nlattr)),
    attrsAt: align4(koffi.sizeof(msg)),
    hdr: { len: koffi.offsetof(nlmsghdr, 'nlmsg_len'), type: koffi.offsetof(nlmsghdr, 'nlmsg_type'), seq: koffi.offsetof(nlmsghdr, 'nlmsg_seq') },
    nla: { len: koffi.offsetof(nlattr, 'nla_len'), type: koffi.offsetof(nlattr, 'nla_type') },
    msg: {
      sport: id('idiag_sport'), dport: id('idiag_dport'), src: id('idiag_src'), dst: id('idiag_dst'), cookie: id('idiag_cookie'),
      rqueue: koffi.offsetof(msg, 'idiag_rqueue'), inode: koffi.offsetof(msg, 'idiag_inode'),
      state: koffi.offsetof(msg, 'idiag_state'), expires: koffi.offsetof(msg, 'idiag_expires'),
    },
    lastDataRecv: koffi.offsetof(tcpInfo, 'tcpi_last_data_recv'),
  };
}

type Layout = ReturnType<typeof declare>;
let layout: Layout | undefined;
let fd = -1;
let seq = 0;
let buffer: Buffer | undefined;
let view: DataView | undefined;
let busy = false;
let bytecodeRefused = false;
/** Encoded requests by family, states, ext and ports: polling the same ports re-encodes only nlmsg_seq. */
const requests = new Map<string, Buffer>();

/** Closes the netlink socket; the next call opens another. */
export function closeSockDiag(): void {
  if (fd >= 0) closeDescriptor(fd);
  fd = -1;
}

/** Listening TCP sockets, IPv4 and IPv6 (a socket on "::" shows once, as IPv6), on `ports` if given. */
export function listeningSockets(ports?: readonly number[]): ListenSocket[] {
  const found: ListenSocket[] = [];
  const wanted = ports && portList(ports);
  if (wanted?.length === 0) return found;
  for (const family of [AF_INET, AF_INET6]) {
    dump(family, 1 << TCP_LISTEN, 0, wanted, (v, at, L) => {
      const port = v.getUint16(at + L.msg.sport, false); // __be16
      if (wanted && !wanted.includes(port)) return;
      found.push({ family: family === AF_INET ? 4 : 6, address: formatAddress(v, at + L.msg.src, family), port, inode: v.getUint32(at + L.msg.inode, HOST_LE), acceptQueue: v.getUint32(at + L.msg.rqueue, HOST_LE) });
    });
  }
  return found;
}

/**
 * The connections whose local port is in `ports` (CONNECTION_STATES), with when data last came.
 * Each family costs one walk of the kernel's whole established hash (about 1 ms for 256 Ki
 * buckets, even when empty): pass `families` when the listeners' are known (a connection has its
 * listener's family; one on "::" takes IPv4 clients as IPv6 sockets).
 */
export function connections(ports: readonly number[], families: readonly (4 | 6)[] = [4, 6]): Connection[] {
  const found: Connection[] = [];
  const wanted = portList(ports);
  if (wanted.length === 0) return found;
  for (const family of families.map((f) => (f === 4 ? AF_INET : AF_INET6))) {
    dump(family, CONNECTION_STATES, 1 << (INET_DIAG_INFO - 1), wanted, (v, at, L, end) => {
      const sport = v.getUint16(at + L.msg.sport, false);
      if (!wanted.includes(sport)) return;
      const timeWait = v.getUint8(at + L.msg.state) === TCP_TIME_WAIT;
      const local = endpoint(formatAddress(v, at + L.msg.src, family), sport, family);
      const remoteAddress = formatAddress(v, at + L.msg.dst, family);
      const remotePort = v.getUint16(at + L.msg.dport, false);
      const remote = endpoint(remoteAddress, remotePort, family);
      // idiag_cookie[0] holds the low 32 bits of the 64-bit socket cookie, [1] the high ones.
      const [lo, hi] = [v.getUint32(at + L.msg.cookie, HOST_LE), v.getUint32(at + L.msg.cookie + 4, HOST_LE)];
      const cookie = hi ? hi.toString(16) + lo.toString(16).padStart(8, '0') : lo.toString(16);
      found.push({
        key: `${local}>${remote}#${cookie}`,
        inode: v.getUint32(at + L.msg.inode, HOST_LE),
        remoteAddress,
        remotePort,
        lastReceiveMs: timeWait ? -1 : lastDataReceived(v, at, L, end),
        // A TIME_WAIT socket's idiag_expires is what is left of its 60 s.
        closedMsAgo: timeWait ? Math.max(0, TIME_WAIT_MS - v.getUint32(at + L.msg.expires, HOST_LE)) : null,
      });
    });
  }
  return found;
}

/** tcpi_last_data_recv from the message's INET_DIAG_INFO attribute; -1 when there is none. */
function lastDataReceived(v: DataView, at: number, L: Layout, end: number): number {
  for (let a = at + L.attrsAt; a + L.nlaHdrLen <= end; ) {
    const len = v.getUint16(a + L.nla.len, HOST_LE);
    if (len < L.nlaHdrLen) break;
    if ((v.getUint16(a + L.nla.type, HOST_LE) & NLA_TYPE_MASK) === INET_DIAG_INFO && len - L.nlaHdrLen >= L.lastDataRecv + 4) {
      return v.getUint32(a + L.nlaHdrLen + L.lastDataRecv, HOST_LE);
    }
    a += align4(len);
  }
  return -1;
}

type OnMessage = (view: DataView, at: number, layout: Layout, end: number) => void;

/** One SOCK_DIAG_BY_FAMILY dump of TCP sockets of `family`, read to NLMSG_DONE; `at` is each inet_diag_msg. */
function dump(family: number, states: number, ext: number, ports: readonly number[] | undefined, onMessage: OnMessage): void {
  // The kernel runs one dump per socket at a time, and a dump left half-read would answer the next request.
  if (busy) throw new SockDiagError('sock_diag: a dump is already being read (called from its own callback?)', 0);
  busy = true;
  let complete = false;
  try {
    const L = (layout ??= declare(native().koffi));
    // One port: id.idiag_sport, compared by the kernel's walk before any bytecode (and on any kernel). More: bytecode.
    const sport = ports?.length === 1 ? ports[0]! : 0;
    const bytecode = !bytecodeRefused && !sport && ports && ports.length <= MAX_BYTECODE_PORTS ? ports : undefined;
    let delivered = 0;
    const count: OnMessage = (...args) => (delivered++, onMessage(...args));
    try {
      exchange(L, family, states, ext, sport, bytecode, count);
    } catch (error) {
      // A kernel without INET_DIAG_BC_S_EQ refuses the bytecode (EINVAL) before sending anything: filter here from now on.
      if (!bytecode || delivered > 0 || !(error instanceof SockDiagError) || error.errno !== L.E.EINVAL) throw error;
      bytecodeRefused = true;
      closeSockDiag();
      exchange(L, family, states, ext, 0, undefined, onMessage);
    }
    complete = true;
  } finally {
    busy = false;
    if (!complete) closeSockDiag();
  }
}

function exchange(L: Layout, family: number, states: number, ext: number, sport: number, bytecode: readonly number[] | undefined, onMessage: OnMessage): void {
  const { koffi } = native();
  const rx = (buffer ??= Buffer.alloc(RECV_BUFFER));
  const v = (view ??= new DataView(rx.buffer, rx.byteOffset, rx.length));
  const sock = open();
  seq = (seq % 0x7fffffff) + 1;
  const cacheKey = `${family}/${states}/${ext}/${sport}/${bytecode?.join(',') ?? ''}`;
  let request = requests.get(cacheKey);
  if (!request) {
    if (requests.size >= 16) requests.clear();
    requests.set(cacheKey, (request = encodeRequest(koffi, L, family, states, ext, sport, bytecode)));
  }
  koffi.encode(request, L.hdr.seq, 'uint32_t', seq);
  let sent: number;
  do sent = sendto()(sock, request, request.length, 0, L.kernel, L.kernel.length);
  while (sent < 0 && lastErrno() === L.E.EINTR);
  if (sent !== request.length) fail('sendto', sent < 0 ? lastErrno() : L.E.EIO);
  const deadline = Date.now() + STALL_MS;
  for (;;) {
    const n = recv()(sock, rx, rx.length, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      const errno = lastErrno();
      if (errno === L.E.EINTR) continue;
      if (errno !== L.E.EAGAIN || !waitReadable(koffi, L, sock, deadline)) fail('recv', errno);
      continue;
    }
    if (n > rx.length) fail('recv (reply truncated)', L.E.EMSGSIZE);
    for (let at = 0; at + L.hdrLen <= n; ) {
      const len = v.getUint32(at + L.hdr.len, HOST_LE);
      if (len < L.hdrLen || at + len > n) fail('recv (malformed reply)', L.E.EBADMSG);
      const type = v.getUint16(at + L.hdr.type, HOST_LE);
      if (v.getUint32(at + L.hdr.seq, HOST_LE) === seq) {
        // NLMSG_DONE carries an int: 0, or -errno when the dump failed; NLMSG_ERROR a struct nlmsgerr.
        const errorAt = at + L.hdrLen + (type === NLMSG_ERROR ? L.errorAt : 0);
        const error = (type === NLMSG_DONE || type === NLMSG_ERROR) && errorAt + 4 <= at + len ? v.getInt32(errorAt, HOST_LE) : 0;
        if (error < 0) fail('SOCK_DIAG_BY_FAMILY', -error);
        if (type === NLMSG_DONE || type === NLMSG_ERROR) return;
        if (type === SOCK_DIAG_BY_FAMILY) onMessage(v, at + L.hdrLen, L, at + len);
      }
      at += align4(len);
    }
  }
}

function encodeRequest(koffi: Koffi, L: Layout, family: number, states: number, ext: number, sport: number, ports: readonly number[] | undefined): Buffer {
  // Bytecode, per port: S_EQ port (no: the next port, or past the end = reject), then JMP to the end = accept.
  const block = 3 * L.bcOpSize;
  const code = ports ? ports.length * block : 0;
  const length = L.hdrLen + align4(koffi.sizeof(L.reqV2)) + (code ? L.nlaHdrLen + code : 0);
  const request = Buffer.alloc(length);
  koffi.encode(request, 0, L.nlmsghdr, { nlmsg_len: length, nlmsg_type: SOCK_DIAG_BY_FAMILY, nlmsg_flags: NLM_F_REQUEST | NLM_F_DUMP, nlmsg_seq: 0, nlmsg_pid: 0 });
  const id = { idiag_sport: sport, idiag_dport: 0, idiag_src: [0, 0, 0, 0], idiag_dst: [0, 0, 0, 0], idiag_if: 0, idiag_cookie: [INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE] };
  koffi.encode(request, L.hdrLen, L.reqV2, { sdiag_family: family, sdiag_protocol: IPPROTO_TCP, idiag_ext: ext, pad: 0, idiag_states: states, id });
  if (!ports || code === 0) return request;
  const attr = L.hdrLen + align4(koffi.sizeof(L.reqV2));
  koffi.encode(request, attr, L.nlattr, { nla_len: L.nlaHdrLen + code, nla_type: INET_DIAG_REQ_BYTECODE });
  ports.forEach((port, i) => {
    const rest = code - i * block;
    const ops = [
      { code: INET_DIAG_BC_S_EQ, yes: 2 * L.bcOpSize, no: i === ports.length - 1 ? rest + L.bcOpSize : block },
      { code: 0, yes: 0, no: port },
      { code: INET_DIAG_BC_JMP, yes: L.bcOpSize, no: rest - 2 * L.bcOpSize },
    ];
    koffi.encode(request, attr + L.nlaHdrLen + i * block, L.bcBlock, ops);
  });
  return request;
}

function open(): number {
  if (fd >= 0) return fd;
  const sock = openSocket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG);
  if (sock < 0) fail('socket(AF_NETLINK, NETLINK_SOCK_DIAG)', lastErrno());
  return (fd = sock);
}

/** poll() for the rest of the stall budget; false when it ran out. */
function waitReadable(koffi: Koffi, L: Layout, sock: number, deadline: number): boolean {
  const set = Buffer.alloc(koffi.sizeof(L.pollfd));
  koffi.encode(set, 0, L.pollfd, { fd: sock, events: POLLIN, revents: 0 });
  for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) {
    const ready = poll()(set, 1, left);
    if (ready > 0) return true;
    if (ready < 0 && lastErrno() !== L.E.EINTR) return false;
  }
  return false;
}

/** Throws (dump() then closes the socket: what is left of the reply must not answer the next request). */
function fail(call: string, errno: number): never {
  throw new SockDiagError(`sock_diag ${call} failed: ${errnoText(errno)}`, errno);
}

function portList(ports: readonly number[]): number[] {
  for (const port of ports) if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`not a TCP port: ${port}`);
  return [...new Set(ports)];
}

function endpoint(host: string, port: number, family: number): string {
  return family === AF_INET ? `${host}:${port}` : `[${host}]:${port}`;
}

/** inet_ntop's text (as libuv prints it) of the address (4 __be32 words) at `at`; exported for tests. */
export function formatAddress(v: DataView, at: number, family: number): string {
  const w0 = v.getUint32(at, false);
  if (family === AF_INET) return `${w0 >>> 24}.${(w0 >>> 16) & 255}.${(w0 >>> 8) & 255}.${w0 & 255}`;
  const g: number[] = [];
  for (let i = 0; i < 4; i++) { const w = v.getUint32(at + 4 * i, false); g.push(w >>> 16, w & 0xffff); }
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  if (bestLen < 2) best = -1;
  const w3 = v.getUint32(at + 12, false);
  const v4 = `${w3 >>> 24}.${(w3 >>> 16) & 255}.${(w3 >>> 8) & 255}.${w3 & 255}`;
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) return bestLen === 6 ? `::${v4}` : `::ffff:${v4}`;
  if (best < 0) return g.map((x) => x.toString(16)).join(':');
  const head = g.slice(0, best).map((x) => x.toString(16)).join(':');
  const tail = g.slice(best + bestLen).map((x) => x.toString(16)).join(':');
  return `${head}::${tail}`;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

/** Node's own IPv4 rule: four decimal octets, 0 to 255, no leading zero. */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/**
 * net.isIP, without loading node:net at every start: that module brings the streams and the TCP
 * bindings along (about 2 ms), while most addresses usher reads are IPv4 or a bare port. Only a
 * host with a colon, an IPv6 candidate, asks node:net.
 */
export function ipVersion(host: string): 0 | 4 | 6 {
  if (IPV4.test(host)) return 4;
  if (!host.includes(':')) return 0;
  return (require('node:net') as typeof import('node:net')).isIP(host) === 6 ? 6 : 0;
}

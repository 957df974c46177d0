import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ipVersion } from '../../src/sys/ip.js';

describe('ipVersion', () => {
  it('agrees with net.isIP, which it spares loading at start', () => {
    const hosts = ['127.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '01.2.3.4', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 ', '1.2.3.-4',
      '::', '::1', '[::1]', '::ffff:127.0.0.1', 'fe80::1%eth0', '2001:db8::1', '2001:db8:::1', 'gggg::1', 'localhost', 'example.com', '', '١.٢.٣.٤'];
    expect(hosts.map(ipVersion)).toEqual(hosts.map((host) => isIP(host)));
  });
});

import type { NetworkInterfaceInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loopbackUrl, networkUrl } from '../../electron/main/server-address.ts';

const iface = (address: string, family: 'IPv4' | 'IPv6', internal = false) =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, scopeid: 0 }) as NetworkInterfaceInfo;
const interfaces = {
  lo0: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
  en0: [iface('fe80::1', 'IPv6'), iface('fd00::5', 'IPv6'), iface('192.168.1.20', 'IPv4')],
};

describe('server addresses', () => {
  it('reaches a wildcard bind through loopback, and a loopback bind as it is', () => {
    expect(loopbackUrl('http://0.0.0.0:1235')).toBe('http://127.0.0.1:1235');
    expect(loopbackUrl('http://[::]:1235')).toBe('http://[::1]:1235');
    expect(loopbackUrl('http://127.0.0.1:1235')).toBe('http://127.0.0.1:1235');
    expect(loopbackUrl('http://[::1]:9')).toBe('http://[::1]:9');
  });

  it('gives other machines this Mac’s external address, only while shared', () => {
    expect(networkUrl('http://0.0.0.0:1235', interfaces)).toBe('http://192.168.1.20:1235');
    expect(networkUrl('http://[::]:1235', interfaces)).toBe('http://192.168.1.20:1235');
    expect(networkUrl('http://[::]:1235', { en0: [iface('fd00::5', 'IPv6')] })).toBe('http://[fd00::5]:1235');
    expect(networkUrl('http://0.0.0.0:1235', { lo0: interfaces.lo0 })).toBeNull();
    expect(networkUrl('http://127.0.0.1:1235', interfaces)).toBeNull();
  });
});

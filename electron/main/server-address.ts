import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

/** Addresses that mean "every interface": a server bound to one announces it (sharing on the network). */
const wildcardHosts = new Map([
  ['0.0.0.0', '127.0.0.1'],
  ['[::]', '[::1]'],
]);

/**
 * The URL this Mac itself uses for a server that announced `announced`: a wildcard bind is reached
 * through loopback (the window, the dashboard in the browser, the app's own probes), which is also
 * the only origin the window trusts.
 */
export function loopbackUrl(announced: string): string {
  const url = new URL(announced);
  const loopback = wildcardHosts.get(url.hostname);
  if (loopback) url.hostname = loopback;
  return url.origin;
}

/**
 * The URL other machines use, or null when the server listens on loopback only: a wildcard bind is
 * given this Mac's first external address (IPv4 first, as most clients prefer it).
 */
export function networkUrl(
  announced: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string | null {
  const url = new URL(announced);
  if (!wildcardHosts.has(url.hostname)) return null;
  const external = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((info) => !info.internal && !(info.family === 'IPv6' && info.address.startsWith('fe80:')));
  const address =
    external.find((info) => info.family === 'IPv4') ??
    (url.hostname === '[::]' ? external.find((info) => info.family === 'IPv6') : undefined);
  if (!address) return null;
  url.hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return url.origin;
}

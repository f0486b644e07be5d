import { existsSync } from 'node:fs';

/** A system tool's path (Debian puts HAProxy in /usr/sbin), or undefined where it is not installed. */
export function findBinary(name: string): string | undefined {
  return ['/usr/bin', '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']
    .map((dir) => `${dir}/${name}`)
    .find((file) => existsSync(file));
}

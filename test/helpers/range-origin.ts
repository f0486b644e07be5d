import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback download origin that honours Range requests, as real hosts do. A response that `trickles`
 * sends 64 KB every 50 ms and holds its last 64 KB back until the client goes away: it is never complete
 * while a server downloads it, however slow the machine.
 */
export interface RangeOrigin {
  url: string;
  close(): void;
}

export interface RangeOriginOptions {
  /** The files served, by name (the URL path without its leading slash); others are 404. */
  files: Map<string, Buffer>;
  /** Whether the response for this file, from this byte, trickles. */
  trickles?(name: string, start: number): boolean;
  /** Bytes written, per response part; `ranged` is false for the downloader's plain probing GET. */
  onServed?(name: string, bytes: number, ranged: boolean): void;
}

export function startRangeOrigin(options: RangeOriginOptions): Promise<RangeOrigin> {
  const server = http.createServer((request, response) => {
    const name = (request.url ?? '/').slice(1);
    const body = options.files.get(name);
    if (!body) return void response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    const range = /bytes=(\d+)-(\d*)/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) : body.length - 1;
    response.writeHead(range ? 206 : 200, {
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${body.length}` } : {}),
    });
    if (request.method === 'HEAD') return void response.end();
    const part = body.subarray(start, end + 1);
    const count = (bytes: number) => options.onServed?.(name, bytes, range !== null);
    if (!options.trickles?.(name, start)) {
      count(part.length);
      return void response.end(part);
    }
    const held = part.length - 65_536;
    let position = 0;
    const timer = setInterval(() => {
      if (position >= held || response.destroyed) return clearInterval(timer);
      const slice = part.subarray(position, Math.min(position + 65_536, held));
      position += slice.length;
      count(slice.length);
      response.write(slice);
    }, 50);
    response.on('close', () => clearInterval(timer));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}

import { connect, type Socket } from 'node:net';

export interface RawExchange {
  /** Everything the server sent. */
  received: string;
  /** Whether the server closed the connection before the deadline. */
  closedByServer: boolean;
}

/** A loopback connection to `url`'s port, for requests no HTTP client would send. */
export async function openRaw(url: string): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** Collects what the server sends until it closes the connection or `deadlineMs` passes (then closes it). */
export function collectUntilClosed(socket: Socket, deadlineMs: number): Promise<RawExchange> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, closedByServer: false });
    }, deadlineMs);
    socket.once('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ received, closedByServer: true });
    });
  });
}

/** Sends `request` (raw bytes) on a new connection; what comes back until the server closes or the deadline. */
export async function rawRequest(url: string, request: string, deadlineMs = 10_000): Promise<RawExchange> {
  const socket = await openRaw(url);
  const collected = collectUntilClosed(socket, deadlineMs);
  socket.write(request);
  return collected;
}

/** The status and the JSON body of the first response in `raw`. */
export function parseFirstResponse(raw: string): { status: number; headers: string; body: unknown } {
  const headerEnd = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, headerEnd);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const length = Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1] ?? NaN);
  const rest = raw.slice(headerEnd + 4);
  const text = Number.isNaN(length) ? rest : rest.slice(0, length);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status, headers: head, body };
}

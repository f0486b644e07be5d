/**
 * Connections that hold the server without progress are cut after a bounded time:
 *
 * - Headers and whole requests: Node's own headersTimeout / requestTimeout (408, see wire-errors.ts),
 *   checked often enough that the bounds hold (Node's default check runs every 30 s).
 * - A body that stops arriving: 408 once no byte came for `bodyIdleTimeoutMs`.
 * - A client that stops reading: its socket is closed once an answer has waited `stalledWriteTimeoutMs`
 *   for it to read (no 'drain'), so neither the buffered answer nor a drain waits on it.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { refuseOnSocket } from './wire-errors.ts';

export interface ConnectionTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  stalledWriteTimeoutMs: number;
}

/** The Fastify and Node HTTP server options of the header and request timeouts. */
export function serverTimeoutOptions(timeouts: ConnectionTimeouts) {
  const headersTimeout = Math.min(timeouts.headersTimeoutMs, timeouts.requestTimeoutMs);
  return {
    requestTimeout: timeouts.requestTimeoutMs,
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
  };
}

export function installConnectionTimeouts(app: FastifyInstance, timeouts: ConnectionTimeouts): void {
  cutIdleBodies(app, timeouts.bodyIdleTimeoutMs);
  closeStalledReaders(app, timeouts.stalledWriteTimeoutMs);
}

/** Watches the socket's received bytes, not the body stream (a 'data' listener would take the body). */
function cutIdleBodies(app: FastifyInstance, idleMs: number): void {
  app.addHook('onRequest', async (request) => {
    const raw = request.raw;
    const declared = Number(raw.headers['content-length'] ?? 0) > 0 || raw.headers['transfer-encoding'];
    if (!declared || raw.complete) return;
    const socket = raw.socket;
    let bytesRead = socket.bytesRead;
    const check = () => {
      if (raw.complete || socket.destroyed) return;
      if (socket.bytesRead === bytesRead) {
        request.log.debug('request body stalled');
        refuseOnSocket(socket, 408, 'The request body stopped arriving.', 'request_timeout');
        return;
      }
      bytesRead = socket.bytesRead;
      timer.refresh();
    };
    const timer = setTimeout(check, idleMs).unref();
    raw.once('end', () => clearTimeout(timer));
    raw.once('close', () => clearTimeout(timer));
  });
}

function closeStalledReaders(app: FastifyInstance, stalledMs: number): void {
  /** Since when each socket's answer has waited for the client to read (absent: it has not). */
  const waitingSince = new Map<Socket, number>();
  const sockets = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('drain', () => waitingSince.delete(socket));
    socket.once('close', () => {
      sockets.delete(socket);
      waitingSince.delete(socket);
    });
  });
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const socket of sockets) {
        if (!socket.writableNeedDrain) {
          waitingSince.delete(socket);
          continue;
        }
        const since = waitingSince.get(socket);
        if (since === undefined) waitingSince.set(socket, now);
        else if (now - since >= stalledMs) {
          app.log.info({ waitedMs: now - since }, 'closed a connection whose client stopped reading');
          socket.destroy();
        }
      }
    },
    Math.max(50, Math.min(1000, Math.floor(stalledMs / 4))),
  ).unref();
  app.addHook('onClose', async () => clearInterval(sweep));
}

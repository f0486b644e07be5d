import type { FastifyPluginAsync } from 'fastify';
import type { LmxEvent } from '../../runtime/events.ts';
import type { AdminModelServices } from './services.ts';

const PING_MS = 15_000;

/**
 * GET /admin/events: the live feed as server-sent events (`event: <type>\ndata: <json>\n\n`), with a
 * `: ping` comment every 15 s so proxies and clients can tell a quiet stream from a dead one.
 */
export const adminEventRoutes: FastifyPluginAsync<{ services: AdminModelServices }> = async (
  app,
  { services },
) => {
  const open = new Set<() => void>();
  // Streams never end by themselves: end them before the server closes, or close() would wait forever.
  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get('/events', async (request, reply) => {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    raw.write(': connected\n\n');
    const send = (event: LmxEvent) => {
      if (!raw.writableEnded) raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
    };
    const unsubscribe = services.events.subscribe(send);
    const state = services.state();
    send({ type: 'state', data: { status: state.status, reason: state.reason } });
    const ping = setInterval(() => raw.write(': ping\n\n'), PING_MS);
    const close = () => {
      open.delete(close);
      clearInterval(ping);
      unsubscribe();
      if (!raw.writableEnded) raw.end();
    };
    open.add(close);
    request.raw.once('close', close);
  });
};

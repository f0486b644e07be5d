import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  url: string;
}

/**
 * Every route a built app serves, read from Fastify's own route tree (printRoutes), so a test that walks
 * it covers a route added later without being edited.
 */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const segments: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^([\s│├└─]*)(\S.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = Math.round((match[1] ?? '').length / 4);
    segments.length = depth;
    segments[depth] = match[2] ?? '';
    const url = segments.join('');
    for (const method of (match[3] ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean))
      routes.push({ method, url });
  }
  return routes;
}

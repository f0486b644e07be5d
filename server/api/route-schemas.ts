import type { FastifyInstance, FastifySchema } from 'fastify';

export interface RouteSchemaEntry {
  readonly method: string;
  readonly url: string;
  readonly schema: FastifySchema | undefined;
}

const recorded = new WeakMap<FastifyInstance, RouteSchemaEntry[]>();

/**
 * Keeps the method, URL and schema of every route registered after this call, so tooling that walks the
 * API (the reliability suite's fuzzer) covers a route added later without being edited. Fastify offers
 * the schemas only through onRoute, which cannot be added once the app is built.
 */
export function recordRouteSchemas(app: FastifyInstance): void {
  const entries: RouteSchemaEntry[] = [];
  recorded.set(app, entries);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) entries.push({ method, url: route.url, schema: route.schema });
  });
}

/** The routes recordRouteSchemas saw on this app (empty when it was not called). */
export function routeSchemas(app: FastifyInstance): readonly RouteSchemaEntry[] {
  return recorded.get(app) ?? [];
}

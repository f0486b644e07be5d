// Property-based fuzzing of every route the app has, built from the route table and route schemas at
// run time: a route added later is fuzzed without new code.

import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { routeSchemas, type RouteSchemaEntry } from '../../server/api/route-schemas.ts';
import {
  fromSchema,
  hostileHeaders,
  hostilePathValue,
  hostileQuery,
  toJson,
  wireDamage,
} from './hostile-input.ts';

export interface FuzzTarget {
  app: FastifyInstance;
  url: string;
  /** The admin key now (a fuzzed key rotation changes it). */
  adminKey(): string;
  apiKey?: string;
  /** Values worth trying for a string field of this name (e.g. the loaded model's id for `model`). */
  hints: Readonly<Record<string, readonly string[]>>;
}

export interface FuzzReport {
  seed: number;
  cases: number;
  routes: string[];
  byStatus: Record<string, number>;
}

/** Routes whose answers never end by design are asked once for their headers, then let go. */
const STREAM_PEEK_MS = 300;

/** The routes a fuzzer walks: every method and URL of the app but the static dashboard files. */
export function fuzzableRoutes(app: FastifyInstance): RouteSchemaEntry[] {
  return routeSchemas(app).filter((route) => !route.url.startsWith('/ui') && route.method !== 'OPTIONS');
}

/**
 * Runs `runsPerRoute` seeded cases against every route; throws (fast-check's report, with the seed and
 * the shrunk case) on the first answer that is a 5xx, not in the error shape, or no answer at all.
 */
export async function fuzzEveryRoute(
  target: FuzzTarget,
  options: {
    seed: number;
    runsPerRoute: number;
    skip?: (route: RouteSchemaEntry) => string | undefined;
  },
): Promise<FuzzReport> {
  const report: FuzzReport = { seed: options.seed, cases: 0, routes: [], byStatus: {} };
  for (const route of fuzzableRoutes(target.app)) {
    if (options.skip?.(route)) continue;
    report.routes.push(`${route.method} ${route.url}`);
    await fc.assert(
      fc.asyncProperty(requestFor(route, target), async (request) => {
        report.cases++;
        const outcome = await send(target, route, request);
        report.byStatus[outcome.status] = (report.byStatus[outcome.status] ?? 0) + 1;
        const problem = judge(route, outcome);
        if (problem) throw new Error(`${problem}: ${outcome.status} ${outcome.body.slice(0, 300)}`);
      }),
      {
        seed: options.seed,
        numRuns: options.runsPerRoute,
        endOnFailure: false,
        interruptAfterTimeLimit: 120_000,
      },
    );
  }
  return report;
}

interface FuzzRequest {
  path: string;
  query: string;
  headers: Record<string, string>;
  auth: 'right' | 'none' | 'wrong' | 'api';
  body: Buffer | undefined;
}

function requestFor(route: RouteSchemaEntry, target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  const schema = route.schema as Record<string, Record<string, unknown> | undefined> | undefined;
  const paramNames = [...route.url.matchAll(/:(\w+)/g)].map((match) => match[1]!);
  const params = fc.tuple(
    ...paramNames.map((name) =>
      fc.oneof(hostilePathValue, fc.constantFrom(...(target.hints[name] ?? ['x']))),
    ),
  );
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
  const body = hasBody
    ? fc.oneof(
        { weight: 1, arbitrary: fc.constant(undefined) },
        {
          weight: 8,
          arbitrary: fc
            .tuple(fromSchema(schema?.body, target.hints), wireDamage)
            .map(([value, damage]) => damage(toJson(value))),
        },
      )
    : fc.constant(undefined);
  return fc.record({
    path: params.map((values) =>
      paramNames.reduce((url, name, index) => url.replace(`:${name}`, values[index]!), route.url),
    ),
    query: hostileQuery,
    headers: hostileHeaders,
    auth: fc.constantFrom<FuzzRequest['auth']>('right', 'right', 'right', 'none', 'wrong', 'api'),
    body,
  });
}

interface Outcome {
  status: number;
  contentType: string;
  body: string;
  error?: string;
}

async function send(target: FuzzTarget, route: RouteSchemaEntry, request: FuzzRequest): Promise<Outcome> {
  const key = {
    right: route.url.startsWith('/admin') ? target.adminKey() : (target.apiKey ?? target.adminKey()),
    none: undefined,
    wrong: 'wrong-key-0000000000',
    api: target.apiKey,
  }[request.auth];
  const headers: Record<string, string> = { ...request.headers };
  if (key) headers.authorization = `Bearer ${key}`;
  if (!request.headers['content-type']) delete headers['content-type'];
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    const response = await fetch(`${target.url}${request.path}${request.query}`, {
      method: route.method,
      headers,
      body: request.body,
      signal: controller.signal,
    });
    const contentType = response.headers.get('content-type') ?? '';
    if (contentType.startsWith('text/event-stream') && response.ok) {
      setTimeout(() => controller.abort(), STREAM_PEEK_MS);
      const body = await response.text().catch(() => '');
      return { status: response.status, contentType, body };
    }
    return { status: response.status, contentType, body: await response.text() };
  } catch (error) {
    return { status: 0, contentType: '', body: '', error: String((error as Error).cause ?? error) };
  } finally {
    clearTimeout(timer);
  }
}

function judge(route: RouteSchemaEntry, outcome: Outcome): string | undefined {
  if (outcome.status === 0) return `no answer (${outcome.error})`;
  // Readiness answers 503 while no model is loaded (a fuzzed unload can leave it so): that is its answer.
  if (outcome.status === 503 && route.url === '/readyz') return undefined;
  if (outcome.status >= 500) return 'server error';
  if (outcome.status < 400 || route.method === 'HEAD') return undefined;
  if (!outcome.contentType.includes('application/json')) return `error not JSON (${outcome.contentType})`;
  try {
    const error = (JSON.parse(outcome.body) as { error?: { message?: unknown; type?: unknown } }).error;
    if (typeof error?.message !== 'string' || typeof error.type !== 'string')
      return 'error not in the API error shape';
  } catch {
    return 'error body not parseable';
  }
  return undefined;
}

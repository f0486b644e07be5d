import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import type { ShapeName } from '../fixtures/gguf-writer.ts';

/** Admin-heavy tests make more calls than the default admin rate limit allows; loopback is exempted. */
export const adminHeavy = { rateLimit: { exemptLoopback: true } };

/** The same for `lmx serve` child processes, plus no event-loop shedding on a shared 2-core machine. */
export const adminHeavyEnv = {
  LMX_RATE_LIMIT_EXEMPT_LOOPBACK: 'true',
  LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
};

/** Copies generated models into <dataDir>/models as <name>.gguf (copies: links out of the models dir are refused). */
export async function fillModelsDir(dataDir: string, models: Record<string, ShapeName>): Promise<string> {
  const modelsDir = path.join(dataDir, 'models');
  await mkdir(modelsDir, { recursive: true });
  for (const [name, shape] of Object.entries(models)) {
    await copyFile(await ensureGeneratedModel(shape), path.join(modelsDir, `${name}.gguf`));
  }
  return modelsDir;
}

export interface JsonAnswer {
  status: number;
  // The body as JSON; tests assert on its fields.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of many shapes, checked by the tests
}

/** fetch with the admin key, JSON in and out. */
export async function adminCall(
  baseUrl: string,
  adminKey: string,
  method: string,
  pathname: string,
  body?: unknown,
): Promise<JsonAnswer> {
  const response = await fetch(`${baseUrl}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${adminKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

export interface EventRecorder {
  events: { event: string; data: unknown }[];
  /** Resolves with the first recorded event (from index `from` on) matching, waiting at most timeoutMs. */
  waitFor(match: (event: string, data: any) => boolean, timeoutMs?: number, from?: number): Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any -- event payloads vary
  close(): void;
}

/** Subscribes to GET /admin/events and records every message. */
export async function recordEvents(baseUrl: string, adminKey: string): Promise<EventRecorder> {
  const controller = new AbortController();
  let response = await fetch(`${baseUrl}/admin/events`, {
    headers: { authorization: `Bearer ${adminKey}` },
    signal: controller.signal,
  });
  // Load shedding may refuse the first requests right after a start on a busy machine: retry (bounded).
  for (let attempt = 0; response.status === 503 && attempt < 20; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    response = await fetch(`${baseUrl}/admin/events`, {
      headers: { authorization: `Bearer ${adminKey}` },
      signal: controller.signal,
    });
  }
  if (!response.ok || !response.body)
    throw new Error(`events: HTTP ${response.status} ${await response.text()}`);
  const events: EventRecorder['events'] = [];
  const waiters = new Set<() => void>();
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      events.push({ event: message.event ?? 'message', data: JSON.parse(message.data) });
      for (const wake of [...waiters]) wake();
    },
  });
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    events,
    waitFor: (match, timeoutMs = 30_000, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(from).find((entry) => match(entry.event, entry.data));
          if (!found) return false;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(found.data);
          return true;
        };
        const wake = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(`no matching event within ${timeoutMs} ms; got ${JSON.stringify(events.slice(-10))}`),
          );
        }, timeoutMs);
        if (!check()) waiters.add(wake);
      }),
    close: () => controller.abort(),
  };
}

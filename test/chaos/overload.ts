// `multiple` × a real `lmx serve`'s admission capacity (running + queued requests), every client retrying
// at once when refused, for a bounded time: every excess request must be refused (429/503) with
// Retry-After in OpenAI's error shape, every accepted one must complete, no request may hang, /healthz and
// /readyz (asked from another process) must keep answering, and the server's memory must stay bounded.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { adminCall, adminHeavyEnv, fillModelsDir } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer } from '../helpers/server.ts';
import type { ProbeReport } from './health-probe.ts';
import { ProcessSampler, sampleProcess } from './process-sampler.ts';

interface LoadCounts {
  clients: number;
  seconds: number;
  sent: number;
  completed: number;
  refused: number;
  /** A request that got no answer, or no end of its stream, within REQUEST_TIMEOUT_MS. */
  hung: number;
  /** Anything else: another status, a refusal without Retry-After or not in the error shape, a cut stream. */
  unexpected: string[];
}

export interface OverloadReport extends LoadCounts {
  capacity: number;
  /** Completed requests per second under overload ÷ with exactly `capacity` clients, same server. */
  goodputRatio: number;
  atCapacity: LoadCounts;
  health: ProbeReport;
  rssAtRestBytes: number | null;
  peakRssBytes: number | null;
}

const ADMIN_KEY = 'lmx-overload-admin-key-0123456789';
const PARALLEL = 2;
const MAX_QUEUED = 2;
const REQUEST_TIMEOUT_MS = 30_000;
/** A bound on the whole run's requests, whatever the machine's speed. */
const MAX_REQUESTS = 50_000;

type Outcome =
  { kind: 'completed' } | { kind: 'refused' } | { kind: 'hung' } | { kind: 'unexpected'; why: string };

async function oneRequest(url: string): Promise<Outcome> {
  try {
    const response = await fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'alpha',
        prompt: 'Once',
        max_tokens: 16,
        stream: true,
        ignore_eos: true,
      }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (response.status === 200) {
      return text.includes('"finish_reason":"length"') && text.trimEnd().endsWith('data: [DONE]')
        ? { kind: 'completed' }
        : { kind: 'unexpected', why: `200 with a cut stream: …${text.slice(-120)}` };
    }
    if (response.status === 429 || response.status === 503) {
      const code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
      if (!response.headers.get('retry-after'))
        return { kind: 'unexpected', why: `${response.status} ${String(code)} without Retry-After` };
      if (typeof code !== 'string')
        return { kind: 'unexpected', why: `${response.status} not in the error shape` };
      return { kind: 'refused' };
    }
    return { kind: 'unexpected', why: `${response.status}: ${text.slice(0, 200)}` };
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') return { kind: 'hung' };
    return { kind: 'unexpected', why: String(error) };
  }
}

/** The probe runs in its own process: the load's clients would otherwise delay its timers. */
function probeHealth(url: string, seconds: number): Promise<ProbeReport> {
  const script = path.join(import.meta.dirname, 'health-probe.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', script, url, String(seconds)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('close', (code) =>
      code === 0
        ? resolve(JSON.parse(output) as ProbeReport)
        : reject(new Error(`health probe exited ${code}`)),
    ),
  );
}

export async function overload(options: { multiple: number; seconds: number }): Promise<OverloadReport> {
  const capacity = PARALLEL + MAX_QUEUED;
  const clients = capacity * options.multiple;
  const dataDir = await makeDataDir();
  await fillModelsDir(dataDir, { alpha: 'tiny' });
  const args = smallServerArgs(dataDir, ADMIN_KEY);
  args[args.indexOf('--parallel') + 1] = String(PARALLEL);
  const server = await spawnServer(args, {
    ...adminHeavyEnv,
    LMX_QUEUE_MAX_QUEUED: String(MAX_QUEUED),
    LMX_QUEUE_TIMEOUT_MS: '10000',
  });
  try {
    const load = await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'alpha' });
    if (load.status !== 200) throw new Error(`load: ${load.status} ${JSON.stringify(load.body)}`);
    // Exactly as many clients as the server admits first: the goodput overload is compared with. It also
    // makes the lazily made buffers and sequences part of the memory at rest.
    const atCapacity = await runClients(server.url, capacity, options.seconds / 2);
    const rssAtRestBytes = (await sampleProcess(server.child.pid!))?.rssBytes ?? null;
    const sampler = new ProcessSampler(server.child.pid!);
    const health = probeHealth(server.url, options.seconds);
    const counts = await runClients(server.url, clients, options.seconds);
    const samples = sampler.stop();
    const perSecond = (c: LoadCounts) => c.completed / c.seconds;
    return {
      ...counts,
      capacity,
      goodputRatio: perSecond(atCapacity) === 0 ? 0 : perSecond(counts) / perSecond(atCapacity),
      atCapacity,
      health: await health,
      rssAtRestBytes,
      peakRssBytes: samples.length ? Math.max(...samples.map((s) => s.rssBytes)) : null,
    };
  } finally {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

/** `clients` clients sending one request after the other (at once after a refusal) for `seconds`. */
async function runClients(url: string, clients: number, seconds: number): Promise<LoadCounts> {
  const counts: LoadCounts = { clients, seconds, sent: 0, completed: 0, refused: 0, hung: 0, unexpected: [] };
  const deadline = Date.now() + seconds * 1000;
  const client = async () => {
    while (Date.now() < deadline && counts.sent < MAX_REQUESTS) {
      counts.sent++;
      const outcome = await oneRequest(url);
      if (outcome.kind === 'unexpected') counts.unexpected.push(outcome.why);
      else counts[outcome.kind]++;
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  return counts;
}

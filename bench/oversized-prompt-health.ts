// /healthz latency while oversized prompts arrive (issue 13, finding 4): a chat history far longer than
// the context (messages of 10 KB) and a 3.9 MB legacy completion prompt, against the same server idle.
// The server is `lmx serve` in its own process with default settings (one decode thread, CPU); a child of
// this process sends the oversized requests back to back, while this one probes /healthz (a probe every
// 10 ms, open loop), for a bounded time per scenario. Each side has its own event loop, so the probe's
// latency is the server's.
// Run: `npx tsx bench/oversized-prompt-health.ts [--seconds 5]`. Writes bench/results/oversized-prompt-health.json.

import { fork } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureGeneratedModel } from '../test/fixtures/models.ts';
import { repoRoot, smallServerArgs, spawnServer, waitUntilReady } from '../test/helpers/server.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    // The sending child's arguments.
    send: { type: 'string' },
    url: { type: 'string' },
    model: { type: 'string' },
  },
});
const seconds = Math.max(1, Math.min(60, Number(values.seconds)));

const text = (bytes: number) => 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, bytes);
const history = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: text(10_000),
  }));

interface Scenario {
  name: string;
  path: string;
  body: (model: string) => unknown;
}
const scenarios: Scenario[] = [
  { name: 'idle', path: '', body: () => undefined },
  {
    name: 'chat history 64 × 10 KB',
    path: '/v1/chat/completions',
    body: (model) => ({ model, messages: history(64), max_tokens: 8 }),
  },
  {
    name: 'chat history 256 × 10 KB',
    path: '/v1/chat/completions',
    body: (model) => ({ model, messages: history(256), max_tokens: 8 }),
  },
  {
    name: 'completion prompt 3.9 MB',
    path: '/v1/completions',
    body: (model) => ({ model, prompt: text(3_900_000), max_tokens: 8 }),
  },
];

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const round = (x: number) => Math.round(x * 10) / 10;

/**
 * Open loop: a probe every 10 ms whether or not the last one has answered, so a stall of the server shows
 * in every probe it delays (a closed loop would count a stall of seconds as one slow sample).
 */
async function probeHealth(url: string, until: () => boolean): Promise<number[]> {
  const probes: Promise<number>[] = [];
  while (!until() && probes.length < 100_000) {
    const startedAt = performance.now();
    probes.push(
      fetch(`${url}/healthz`, { signal: AbortSignal.timeout(120_000) })
        .then((response) => response.arrayBuffer())
        .then(() => performance.now() - startedAt),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return Promise.all(probes);
}

interface RequestRecord {
  status: number;
  ms: number;
  code: unknown;
}

/** The child: sends one scenario's request back to back until the deadline, then reports them. */
async function sendUntilDeadline(url: string, model: string, scenario: Scenario): Promise<RequestRecord[]> {
  const deadline = Date.now() + seconds * 1000;
  const body = JSON.stringify(scenario.body(model));
  const requests: RequestRecord[] = [];
  while (Date.now() < deadline) {
    const startedAt = performance.now();
    const response = await fetch(`${url}${scenario.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      signal: AbortSignal.timeout(600_000),
    });
    const answer = (await response.json()) as { error?: { code?: unknown } };
    requests.push({ status: response.status, ms: performance.now() - startedAt, code: answer.error?.code });
  }
  return requests;
}

async function run(url: string, model: string, scenario: Scenario) {
  const deadline = Date.now() + seconds * 1000;
  let sending = scenario.path !== '';
  const sender = sending
    ? new Promise<RequestRecord[]>((resolve, reject) => {
        const child = fork(
          fileURLToPath(import.meta.url),
          ['--send', scenario.name, '--url', url, '--model', model, '--seconds', String(seconds)],
          { execArgv: process.execArgv },
        );
        child.once('message', (records) => resolve(records as RequestRecord[]));
        child.once('exit', (code) => reject(new Error(`sender exited (${code}) without reporting`)));
      }).finally(() => (sending = false))
    : Promise.resolve([]);
  const health = await probeHealth(url, () => Date.now() >= deadline && !sending);
  const requests = await sender;
  return {
    scenario: scenario.name,
    healthz: {
      probes: health.length,
      p50Ms: round(percentile(health, 50)),
      p99Ms: round(percentile(health, 99)),
      maxMs: round(Math.max(...health)),
    },
    requests: {
      count: requests.length,
      statuses: [...new Set(requests.map((r) => `${r.status} ${String(r.code ?? '')}`.trim()))],
      p50Ms: requests.length
        ? round(
            percentile(
              requests.map((r) => r.ms),
              50,
            ),
          )
        : null,
    },
  };
}

/** The parent: the server, the scenarios one after the other, the report. */
async function measure(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-bench-oversized-'));
  const modelPath = await ensureGeneratedModel('tiny', { chatTemplate: true });
  // The small test server's flags without its context size and parallel: LMX's defaults for those.
  const args = smallServerArgs(dataDir, 'lmx-bench-admin-key-0123456789');
  args.splice(args.indexOf('--context-size'), 4);
  const server = await spawnServer([...args, '--model', modelPath]);
  try {
    await waitUntilReady(server.url);
    const models = (await (await fetch(`${server.url}/v1/models`)).json()) as { data: { id: string }[] };
    const model = models.data[0]?.id ?? '';
    const loadBefore = loadavg()[0];
    const results = [];
    for (const scenario of scenarios) {
      const result = await run(server.url, model, scenario);
      console.log(JSON.stringify(result));
      results.push(result);
    }
    const idleP99 = results[0]?.healthz.p99Ms ?? NaN;
    const report = {
      at: new Date().toISOString(),
      secondsPerScenario: seconds,
      cpus: cpus().length,
      loadAverage1m: { before: round(loadBefore ?? NaN), after: round(loadavg()[0] ?? NaN) },
      results: results.map((r) => ({ ...r, healthzP99VsIdle: round(r.healthz.p99Ms / idleP99) })),
    };
    await writeFile(
      path.join(repoRoot, 'bench/results/oversized-prompt-health.json'),
      `${JSON.stringify(report, null, 2)}\n`,
    );
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

const sent = scenarios.find((scenario) => scenario.name === values.send);
if (sent) {
  const records = await sendUntilDeadline(values.url ?? '', values.model ?? '', sent);
  process.send?.(records, () => process.exit(0));
} else {
  await measure();
}

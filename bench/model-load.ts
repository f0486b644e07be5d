// Model load time through the admin API next to a direct node-llama-cpp loadModel on the same file
// (target ratio ≤ 1.05), and restart-to-ready after kill -9 with the model loaded.
// Run: `npx tsx bench/model-load.ts [--shape bench100m|tiny] [--runs 5]`. Writes bench/results/model-load.json.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';
import pino from 'pino';
import { validateConfig } from '../server/config/load.ts';
import { LmxServer } from '../server/server.ts';
import { ensureGeneratedModel } from '../test/fixtures/models.ts';
import { isShapeName } from '../test/fixtures/gguf-writer.ts';
import { smallServerArgs, spawnServer, testConfigLayer, waitUntilReady } from '../test/helpers/server.ts';

const { values } = parseArgs({
  options: { shape: { type: 'string', default: 'bench100m' }, runs: { type: 'string', default: '5' } },
});
const shape = values.shape ?? 'bench100m';
if (!isShapeName(shape)) throw new Error(`unknown shape ${shape}`);
const runs = Math.max(1, Math.min(20, Number(values.runs)));
const CONTEXT = { contextSize: 256, sequences: 1, threads: 1 };
const ADMIN_KEY = 'lmx-bench-admin-key-0123456789';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const file = await ensureGeneratedModel(shape);
const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-bench-load-'));
await mkdir(path.join(dataDir, 'models'), { recursive: true });
await copyFile(file, path.join(dataDir, 'models', 'bench.gguf'));
const modelPath = path.join(dataDir, 'models', 'bench.gguf');

// A real server on loopback (same process, same file, same context settings as the direct loads).
const config = validateConfig({
  ...testConfigLayer(dataDir),
  contextSize: CONTEXT.contextSize,
  parallel: CONTEXT.sequences,
  adminKey: ADMIN_KEY,
  rateLimit: { exemptLoopback: true },
});
const server = await LmxServer.start(config, pino({ level: 'silent' }));
const post = (pathname: string, body: unknown) =>
  fetch(`${server.url}${pathname}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const llama = await getLlama({ gpu: false, build: 'never' });

// Interleaved (direct, API, direct, API, …) so the noise of a shared machine hits both alike; the first
// pair warms the page cache and is not counted.
const direct: number[] = [];
const viaApi: number[] = [];
for (let run = 0; run < runs + 1; run++) {
  let started = performance.now();
  const model = await llama.loadModel({ modelPath });
  const context = await model.createContext(CONTEXT);
  const directMs = performance.now() - started;
  await context.dispose();
  await model.dispose();

  started = performance.now();
  const response = await post('/admin/models/load', { model: 'bench' });
  const apiMs = performance.now() - started;
  if (!response.ok) throw new Error(`load failed: ${response.status} ${await response.text()}`);
  await post('/admin/models/unload', { model: 'bench' });
  if (run > 0) {
    direct.push(directMs);
    viaApi.push(apiMs);
  }
}
await server.stop();

// Restart to ready after kill -9 with the model loaded: spawn → listening → /readyz 200.
const restart: { listeningMs: number; readyMs: number }[] = [];
const args = smallServerArgs(dataDir, ADMIN_KEY);
const env = {
  LMX_RATE_LIMIT_EXEMPT_LOOPBACK: 'true',
  LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
  // Repeated kills are exactly a crash loop: raise the limit so the bench measures restore, not safe mode.
  LMX_CRASH_LOOP_MAX_STARTS: '100',
};
let victim = await spawnServer(args, env);
await fetch(`${victim.url}/admin/models/load`, {
  method: 'POST',
  headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
  body: JSON.stringify({ model: 'bench' }),
});
for (let run = 0; run < Math.min(runs, 3); run++) {
  victim.child.kill('SIGKILL');
  await victim.exited;
  const started = performance.now();
  victim = await spawnServer(args, env);
  const listeningMs = performance.now() - started;
  await waitUntilReady(victim.url, 120_000);
  restart.push({ listeningMs, readyMs: performance.now() - started });
}
victim.child.kill('SIGTERM');
await victim.exited;
await rm(dataDir, { recursive: true, force: true });

const result = {
  at: new Date().toISOString(),
  shape,
  fileBytes: (await import('node:fs')).statSync(file).size,
  runs,
  directLoadMs: { median: median(direct), all: direct.map(Math.round) },
  adminApiLoadMs: { median: median(viaApi), all: viaApi.map(Math.round) },
  ratio: median(viaApi) / median(direct),
  restartToReadyAfterKill9Ms: {
    medianListening: median(restart.map((r) => r.listeningMs)),
    medianReady: median(restart.map((r) => r.readyMs)),
    all: restart.map((r) => ({ listening: Math.round(r.listeningMs), ready: Math.round(r.readyMs) })),
  },
};
await mkdir(path.join(import.meta.dirname, 'results'), { recursive: true });
await writeFile(
  path.join(import.meta.dirname, 'results', 'model-load.json'),
  JSON.stringify(result, null, 2) + '\n',
);
process.stdout.write(JSON.stringify(result, null, 2) + '\n');
process.exit(0);

// The cost of the first-load probe (server/engine/model-probe.ts): on a fresh data dir a file's first load runs
// in a probe process first; a second load on the same data dir is a plain load. Both through the admin API of
// one `lmx serve` (interleaved: fresh data dir → probed load → unload → plain load), on stories260K and a
// ~100M-parameter random model. The ratio probed ÷ plain is the figure; the difference is the probe.
// Run: `npx tsx bench/model-probe.ts [--runs 3]` (after `npm run build`: LMX_RUN=compiled, as installed; without a
// build the sources run through tsx and the probe pays tsx's start too). Writes bench/results/model-probe.json.

import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureGeneratedModel, storiesModelPath } from '../test/fixtures/models.ts';
import { makeDataDir, smallServerArgs, spawnServer } from '../test/helpers/server.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Math.max(1, Math.min(10, Number(values.runs)));
const ADMIN_KEY = 'lmx-bench-admin-key-0123456789';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const compiled = process.env.LMX_RUN === 'compiled';

const models: Record<string, string | undefined> = {
  stories260K: storiesModelPath(),
  bench100m: await ensureGeneratedModel('bench100m'),
};

async function timedLoad(url: string, unload: boolean): Promise<number> {
  const call = (pathname: string) =>
    fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'bench' }),
    });
  const started = performance.now();
  const response = await call('/admin/models/load');
  const ms = performance.now() - started;
  if (!response.ok) throw new Error(`load failed: ${response.status} ${await response.text()}`);
  if (unload) await call('/admin/models/unload');
  return ms;
}

const results: Record<string, unknown> = {};
for (const [name, file] of Object.entries(models)) {
  if (!file) {
    results[name] = 'absent';
    continue;
  }
  const probed: number[] = [];
  const plain: number[] = [];
  // The first round warms the page cache and is not counted.
  for (let run = 0; run < runs + 1; run++) {
    const dataDir = await makeDataDir();
    await mkdir(path.join(dataDir, 'models'), { recursive: true });
    await copyFile(file, path.join(dataDir, 'models', 'bench.gguf'));
    const server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), {
      LMX_RATE_LIMIT_EXEMPT_LOOPBACK: 'true',
      LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
    });
    const first = await timedLoad(server.url, true);
    const second = await timedLoad(server.url, true);
    server.child.kill('SIGTERM');
    await server.exited;
    await rm(dataDir, { recursive: true, force: true });
    if (run === 0) continue;
    probed.push(first);
    plain.push(second);
  }
  results[name] = {
    probedLoadMs: { median: Math.round(median(probed)), all: probed.map(Math.round) },
    plainLoadMs: { median: Math.round(median(plain)), all: plain.map(Math.round) },
    ratio: Number((median(probed) / median(plain)).toFixed(2)),
    probeMs: Math.round(median(probed) - median(plain)),
  };
}

const result = { at: new Date().toISOString(), compiled, runs, results };
await mkdir(path.join(import.meta.dirname, 'results'), { recursive: true });
await writeFile(
  path.join(import.meta.dirname, 'results', 'model-probe.json'),
  JSON.stringify(result, null, 2) + '\n',
);
process.stdout.write(JSON.stringify(result, null, 2) + '\n');

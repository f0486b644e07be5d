// Fork → `listening` of the server's utility-process entry: compiled (npm run build's
// dist/main/utility-process.js) ÷ from source (electron/utility-entry.mjs through tsx), alternated in
// one run so both see the same machine. The app's supervisor drives each start, as in the app.
// Run: `npx tsx bench/utility-startup.ts [--runs 7]`. Writes bench/results/utility-startup.json.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { compile } from '../build/compile.mjs';
import { forkWithNode } from '../electron/main/node-fork.ts';
import { ServerSupervisor } from '../electron/main/supervisor.ts';
import { repoRoot, testConfigLayer } from '../test/helpers/server.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' } } });
const runs = Math.max(1, Math.min(20, Number(values.runs)));
const entries = {
  compiled: path.join(repoRoot, 'dist/main/utility-process.js'),
  tsx: path.join(repoRoot, 'electron/utility-entry.mjs'),
};
type Variant = keyof typeof entries;

/** One start: ms from the fork to the server's `listening` message; then a drain. */
async function forkToListening(variant: Variant): Promise<number> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-bench-startup-'));
  const supervisor = new ServerSupervisor(
    { modulePath: entries[variant], env: { PATH: process.env.PATH ?? '', HOME: dataDir }, cwd: repoRoot },
    {
      fork: forkWithNode,
      initPayload: async () => ({
        adminKey: 'lmx-bench-admin-key-0123456789',
        config: testConfigLayer(dataDir),
      }),
      log: { info: () => {}, warn: () => {}, error: () => {} },
    },
  );
  try {
    const listening = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${variant}: no listening within 60 s`)), 60_000);
      supervisor.on('message', (message) => {
        if (message.type !== 'listening') return;
        clearTimeout(timer);
        resolve(performance.now());
      });
    });
    const forkedAt = performance.now();
    supervisor.start();
    return (await listening) - forkedAt;
  } finally {
    await supervisor.quit();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

await compile();
// One warm-up of each (file cache), not counted.
for (const variant of ['compiled', 'tsx'] as const) await forkToListening(variant);
const samples: Record<Variant, number[]> = { compiled: [], tsx: [] };
const loadBefore = loadavg()[0]!;
for (let run = 0; run < runs; run++)
  for (const variant of run % 2 ? (['tsx', 'compiled'] as const) : (['compiled', 'tsx'] as const))
    samples[variant].push(await forkToListening(variant));
const result = {
  at: new Date().toISOString(),
  runs,
  cpus: cpus().length,
  loadAverage1m: { before: loadBefore, after: loadavg()[0]! },
  medianMs: { compiled: median(samples.compiled), tsx: median(samples.tsx) },
  ratio: median(samples.compiled) / median(samples.tsx),
  samplesMs: samples,
};
await writeFile(
  path.join(repoRoot, 'bench/results/utility-startup.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
process.stdout.write(
  `fork → listening, median of ${runs}: compiled ${result.medianMs.compiled.toFixed(0)} ms, tsx ${result.medianMs.tsx.toFixed(0)} ms, ratio ${result.ratio.toFixed(3)} (load ${loadBefore.toFixed(2)} → ${result.loadAverage1m.after.toFixed(2)} on ${result.cpus} cores)\n`,
);

// What the HAProxy front door adds: one LMX node, asked directly and through HAProxy (rendered by
// `lmx cluster haproxy`), request by request in alternation so the shared machine's noise hits both.
// Single stream, 64 tokens, ignore_eos. Figures: TTFT and decode tok/s through HAProxy ÷ direct.
// Run: `npx tsx bench/front-door.ts [--rounds 40] [--shape tiny|bench100m]` (stories260K when it is
// beside the repository and no shape is given). Writes bench/results/front-door.json.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseCluster } from '../cli/cluster-config.ts';
import { renderHaproxy } from '../cli/cluster-render.ts';
import { machineInfo } from '../loadgen/machine.ts';
import { percentile } from '../loadgen/percentiles.ts';
import { builtInPrompts } from '../loadgen/prompts.ts';
import { runStreamingRequest, type RequestSpec } from '../loadgen/stream-request.ts';
import type { RequestRecord } from '../loadgen/types.ts';
import { ensureGeneratedModel, storiesModelPath } from '../test/fixtures/models.ts';
import { isShapeName } from '../test/fixtures/gguf-writer.ts';
import { findBinary } from '../test/helpers/binaries.ts';
import { freePort, spawnTool } from '../test/helpers/cluster.ts';
import { makeDataDir, smallServerArgs, spawnServer, waitUntilReady } from '../test/helpers/server.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '40' }, shape: { type: 'string' } },
});
const rounds = Math.max(4, Math.min(200, Number(values.rounds)));
const haproxyBin = findBinary('haproxy');
if (!haproxyBin) throw new Error('haproxy is not installed (apt-get install haproxy)');
let modelFile = values.shape ? undefined : storiesModelPath();
if (!modelFile) {
  const shape = values.shape ?? 'tiny';
  if (!isShapeName(shape)) throw new Error(`unknown shape ${shape}`);
  modelFile = await ensureGeneratedModel(shape);
}

const ADMIN_KEY = 'lmx-bench-admin-key-0123456789';
const machineBefore = machineInfo();
const dataDir = await makeDataDir();
const work = await mkdtemp(path.join(tmpdir(), 'lmx-front-door-'));
const port = await freePort();
const args = smallServerArgs(dataDir, ADMIN_KEY);
args[args.indexOf('--port') + 1] = String(port);
args[args.indexOf('--log-level') + 1] = 'error';
const node = await spawnServer([...args, '--model', modelFile], {
  LMX_RATE_LIMIT_EXEMPT_LOOPBACK: 'true',
  LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
});
const haproxy = { port: await freePort(), file: path.join(work, 'haproxy.cfg') };
const cluster = parseCluster({
  nodes: [{ name: 'node', url: node.url }],
  frontDoor: { bind: `127.0.0.1:${haproxy.port}` },
});
await writeFile(haproxy.file, await renderHaproxy(cluster));
const front = spawnTool(haproxyBin, ['-db', '-f', haproxy.file]);

try {
  await waitUntilReady(node.url);
  const frontUrl = `http://127.0.0.1:${haproxy.port}`;
  // The front door serves only /v1: its first good answer there says the node is in its pool.
  for (let attempt = 0; attempt < 100; attempt++) {
    const answer = await fetch(`${frontUrl}/v1/models`).catch(() => undefined);
    if (answer?.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const model = path.basename(modelFile, '.gguf');
  const prompts = builtInPrompts('short');
  const runStartedAt = performance.now();
  const spec = (baseUrl: string, label: string, index: number): RequestSpec => ({
    target: { label, baseUrl: `${baseUrl}/v1` },
    model,
    prompt: prompts[index % prompts.length]!,
    endpoint: 'chat',
    maxTokens: 64,
    ignoreEos: true,
    temperature: 0,
    includeUsage: true,
    timeoutMs: 60_000,
    step: 'front-door',
    runStartedAt,
  });
  const records: Record<'direct' | 'haproxy', RequestRecord[]> = { direct: [], haproxy: [] };
  // Two warm-up requests each (page cache, prompt cache, HAProxy's first connection), not counted.
  for (let round = -2; round < rounds; round++) {
    const order = round % 2 === 0 ? (['direct', 'haproxy'] as const) : (['haproxy', 'direct'] as const);
    for (const way of order) {
      const record = await runStreamingRequest(spec(way === 'direct' ? node.url : frontUrl, way, round + 2));
      if (record.outcome.class !== 'ok') throw new Error(`${way}: ${JSON.stringify(record.outcome)}`);
      if (round >= 0) records[way].push(record);
    }
  }
  const figures = (list: RequestRecord[]) => {
    const ttft = list.map((record) => record.ttftMs).filter((value): value is number => value !== undefined);
    const decode = list
      .map((record) => record.tpotMs)
      .filter((value): value is number => value !== undefined && value > 0)
      .map((tpot) => 1000 / tpot);
    return {
      requests: list.length,
      ttftMsP50: percentile(ttft, 0.5)!,
      ttftMsP95: percentile(ttft, 0.95)!,
      decodeTokensPerSecondP50: percentile(decode, 0.5)!,
    };
  };
  const direct = figures(records.direct);
  const viaHaproxy = figures(records.haproxy);
  const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  const result = {
    date: new Date().toISOString(),
    model,
    rounds,
    request: { stream: true, maxTokens: 64, ignoreEos: true, concurrency: 1 },
    machine: { ...machineBefore, loadAverageAfter: machineInfo().loadAverage },
    direct,
    haproxy: viaHaproxy,
    ratios: {
      ttftP50: ratio(viaHaproxy.ttftMsP50, direct.ttftMsP50),
      ttftP95: ratio(viaHaproxy.ttftMsP95, direct.ttftMsP95),
      decodeTokensPerSecondP50: ratio(viaHaproxy.decodeTokensPerSecondP50, direct.decodeTokensPerSecondP50),
    },
  };
  await mkdir(path.join(import.meta.dirname, 'results'), { recursive: true });
  await writeFile(
    path.join(import.meta.dirname, 'results', 'front-door.json'),
    JSON.stringify(result, null, 2) + '\n',
  );
  console.log(JSON.stringify(result, null, 2));
} finally {
  front.child.kill('SIGKILL');
  node.child.kill('SIGTERM');
  await node.exited;
  await rm(dataDir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
}

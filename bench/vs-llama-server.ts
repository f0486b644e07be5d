// Issue 18's figures in one run: LMX ÷ llama.cpp's llama-server on the same model and prompts, interleaved —
// single-stream and 4-stream decode, TTFT, prefill of a long uncached prompt — with llama-server at several
// thread settings (each figure compared with the peer's best), and the idle RSS of both with the model loaded.
//
// Run: `npx tsx bench/vs-llama-server.ts --llama-server <path to llama-server> [--models bench100m,bench1b]
//       [--rounds 5] [--peer-threads 1,2,1/2]`.
// llama-server is built from the llama.cpp source node-llama-cpp bundles (bench/engine-study.md says how); it
// is not part of the repository. LMX runs compiled (`npm run build` first) with its own thread policy, as a
// user's `lmx serve` does. Writes bench/results/vs-llama-server.json.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { machineInfo } from '../loadgen/machine.ts';
import type { HealthReport } from '../shared/admin-api.ts';
import { readModelFileInfo } from '../server/engine/gguf.ts';
import type { ModelHealthFigures } from '../server/telemetry/health-checks.ts';
import { ensureGeneratedModel } from '../test/fixtures/models.ts';
import { isShapeName } from '../test/fixtures/gguf-writer.ts';
import { freePort } from '../test/helpers/cluster.ts';
import { repoRoot, spawnServer, waitUntilReady } from '../test/helpers/server.ts';
import { measureEngine, type EngineFigures } from './engine-ratios.ts';
import { untilIdle } from './process-idle.ts';

const PARALLEL = 4;
const CONTEXT_PER_SEQUENCE = 4096;

interface Flags {
  llamaServer: string;
  models: string[];
  rounds: number;
  tokens: number;
  peerThreads: string[];
  prefillTokens: number;
  ttftRequests: number;
}

interface ModelFigures {
  model: string;
  /** Resident set of each server with the model loaded, before any request and after the runs (MB). */
  rssMb: Record<string, { idle: number; afterRuns: number }>;
  /** LMX's idle RSS ÷ the smallest peer's (target ≤ 1.2). */
  idleRssToSmallestPeer?: number;
  /** The thread counts LMX chose for the model at load (deep health), which the addon floor also runs. */
  lmxThreads: LmxThreads;
  engine: EngineFigures;
}

interface LmxThreads {
  threads: number;
  threadsReason: string;
  batchThreads: number | undefined;
}

/** What LMX's deep health says it chose for the loaded model: decode threads (calibrated at load) and batch threads. */
async function lmxThreadsOf(url: string, adminKey: string): Promise<LmxThreads> {
  const response = await fetch(`${url}/admin/health`, { headers: { authorization: `Bearer ${adminKey}` } });
  if (!response.ok) throw new Error(`LMX deep health: ${response.status} ${await response.text()}`);
  const health = (await response.json()) as HealthReport;
  const model = health.components.find((c) => c.name.startsWith('model:'))?.details as
    ModelHealthFigures | undefined;
  if (model?.threads == null) throw new Error('LMX deep health names no model with threads');
  // null (as many as the decode threads) becomes undefined, which is how the floor's context options say it
  return {
    threads: model.threads,
    threadsReason: model.threadsReason,
    batchThreads: model.batchThreads ?? undefined,
  };
}

/** VmRSS of a process, in MB (Linux /proc). */
function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Math.round(Number(match[1]) / 1024);
}

/** Decode threads / batch threads of one llama-server, from "2" (both) or "1/2". */
function peerSetting(spec: string): { label: string; threads: number; batchThreads: number } {
  const [threads, batch] = spec.split('/').map(Number);
  if (!threads || (batch !== undefined && !batch)) throw new Error(`bad --peer-threads entry ${spec}`);
  const batchThreads = batch ?? threads;
  return { label: `llama-server -t ${threads} -tb ${batchThreads}`, threads, batchThreads };
}

async function startLlamaServer(
  binary: string,
  modelPath: string,
  contextPerSequence: number,
  setting: { threads: number; batchThreads: number },
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    binary,
    [
      ['-m', modelPath],
      ['--host', '127.0.0.1', '--port', String(port)],
      ['-np', String(PARALLEL), '-c', String(PARALLEL * contextPerSequence)],
      ['-t', String(setting.threads), '-tb', String(setting.batchThreads)],
      ['--no-webui'],
    ].flat(),
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}:\n${stderr}`);
    const health = await fetch(`${url}/health`).catch(() => undefined);
    if (health?.ok) return { child, url };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`llama-server not healthy after 180 s:\n${stderr}`);
}

async function modelPathOf(name: string): Promise<string> {
  if (isShapeName(name)) return ensureGeneratedModel(name, { chatTemplate: true });
  if (existsSync(name)) return path.resolve(name);
  throw new Error(`--models: ${name} is neither a shape nor a file`);
}

async function measureModel(name: string, flags: Flags): Promise<ModelFigures> {
  const modelPath = await modelPathOf(name);
  const trained = (await readModelFileInfo(modelPath, undefined)).trainedContext ?? CONTEXT_PER_SEQUENCE;
  const contextPerSequence = Math.min(CONTEXT_PER_SEQUENCE, trained);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-vs-llama-server-'));
  const peers: { label: string; child: ChildProcess; url: string }[] = [];
  const adminKey = randomBytes(24).toString('hex');
  const lmx = await spawnServer(
    [
      ['--model', modelPath, '--port', '0', '--gpu', 'off', '--admin-key', adminKey],
      ['--parallel', String(PARALLEL), '--context-size', String(contextPerSequence)],
      ['--data-dir', dataDir, '--log-level', 'warn'],
    ].flat(),
    {
      LMX_RUN: 'compiled',
      LMX_RATE_LIMIT_EXEMPT_LOOPBACK: 'true',
      LMX_RATE_LIMIT_INFERENCE_PER_MINUTE: '1000000',
      LMX_SHEDDING_MAX_EVENT_LOOP_DELAY_MS: '0',
    },
    180_000,
  );
  try {
    await waitUntilReady(lmx.url, 180_000);
    const lmxThreads = await lmxThreadsOf(lmx.url, adminKey);
    log(
      `== ${name}: LMX decodes with ${lmxThreads.threads} threads (${lmxThreads.threadsReason}), batches with ${lmxThreads.batchThreads ?? 'as many'}`,
    );
    for (const spec of flags.peerThreads) {
      const setting = peerSetting(spec);
      const started = await startLlamaServer(flags.llamaServer, modelPath, contextPerSequence, setting);
      peers.push({ label: setting.label, ...started });
    }
    // Idle: every server up with the model loaded, none has served a request yet.
    const processes = [
      { label: 'LMX', pid: lmx.child.pid! },
      ...peers.map((p) => ({ label: p.label, pid: p.child.pid! })),
    ];
    const idle = Object.fromEntries(processes.map((p) => [p.label, rssMb(p.pid)]));
    log(`== ${name}: idle RSS ${processes.map((p) => `${p.label} ${idle[p.label]} MB`).join(', ')}`);
    const engine = await measureEngine({
      lmxUrl: `${lmx.url}/v1`,
      modelPath,
      threads: lmxThreads.threads,
      batchThreads: lmxThreads.batchThreads,
      gpu: 'off',
      sequences: PARALLEL,
      contextSize: contextPerSequence,
      tokens: flags.tokens,
      rounds: flags.rounds,
      streams: [1, PARALLEL],
      peers: peers.map((p) => ({ label: p.label, url: p.url })),
      ttftRequests: flags.ttftRequests,
      prefillTokens: Math.min(flags.prefillTokens, contextPerSequence - 64),
      timeoutMs: 300_000,
      log,
      settle: () => untilIdle(processes.map((p) => p.pid)),
    });
    const rss = Object.fromEntries(
      processes.map((p) => [p.label, { idle: idle[p.label]!, afterRuns: rssMb(p.pid) }]),
    );
    const smallestPeer = Math.min(...peers.map((p) => idle[p.label]!));
    return {
      model: path.basename(modelPath),
      rssMb: rss,
      idleRssToSmallestPeer: peers.length ? idle.LMX! / smallestPeer : undefined,
      lmxThreads,
      engine,
    };
  } finally {
    for (const peer of peers) peer.child.kill('SIGTERM');
    lmx.child.kill('SIGTERM');
    await lmx.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

const fmt = (value: number | undefined) => (value === undefined ? '—' : value.toFixed(2));

/** One line per figure the issue names, LMX ÷ the best peer setting. */
function summary(figures: ModelFigures): string[] {
  const lines = figures.engine.cases.map((c) => {
    const best = c.lmxToBestPeer;
    return (
      `${figures.model} ${c.streams} stream${c.streams > 1 ? 's' : ''}: decode ${fmt(best?.decode)}× (${best?.decodePeer}), ` +
      `TTFT ${fmt(best?.ttft)}× (${best?.ttftPeer}); LMX ${fmt(c.lmx.decodeTokensPerSecond)} tok/s, slowest stream's TTFT ${fmt(c.lmx.ttftWorstMs)} ms`
    );
  });
  const ttft = figures.engine.ttft;
  if (ttft)
    lines.push(
      `${figures.model} TTFT, ${ttft.requests} requests alone: ${fmt(ttft.lmxToBestPeer?.ratio)}× (${ttft.lmxToBestPeer?.peer}); LMX ${fmt(ttft.lmx.ttftMs)} ms`,
    );
  const prefill = figures.engine.prefill;
  if (prefill)
    lines.push(
      `${figures.model} prefill ${prefill.promptTokens} tokens: ${fmt(prefill.lmxToBestPeer?.ratio)}× (${prefill.lmxToBestPeer?.peer}); LMX ${fmt(prefill.lmx.tokensPerSecond)} tok/s`,
    );
  lines.push(`${figures.model} idle RSS: ${fmt(figures.idleRssToSmallestPeer)}× the smallest peer's`);
  return lines;
}

const program = new Command('vs-llama-server')
  .description("LMX ÷ llama-server: decode, TTFT, prefill and idle RSS (issue 18's figures)")
  .option('--llama-server <path>', 'the llama-server binary', process.env.LLAMA_SERVER)
  .option('--models <list>', 'shapes (bench100m, bench1b) or GGUF paths', (v) => v.split(','), [
    'bench100m',
    'bench1b',
  ])
  .option('--rounds <n>', 'interleaved rounds per model', Number, 5)
  .option('--tokens <n>', 'greedy tokens per stream', Number, 128)
  .option('--peer-threads <list>', 'llama-server settings: decode[/batch] threads', (v) => v.split(','), [
    '1',
    '2',
    '1/2',
  ])
  .option('--prefill-tokens <n>', 'length of the uncached prompt', Number, 1536)
  .option('--ttft-requests <n>', 'TTFT requests per side and round, one at a time', Number, 10)
  .action(async (flags: Flags) => {
    if (!flags.llamaServer || !existsSync(flags.llamaServer))
      throw new Error('--llama-server (or LLAMA_SERVER) must name a llama-server binary');
    if (!existsSync(path.join(repoRoot, 'dist/cli/lmx.js'))) throw new Error('run `npm run build` first');
    const before = machineInfo();
    const models: ModelFigures[] = [];
    for (const name of flags.models) models.push(await measureModel(name, flags));
    const result = {
      bench: 'vs-llama-server',
      settings: {
        parallel: PARALLEL,
        tokens: flags.tokens,
        rounds: flags.rounds,
        peerThreads: flags.peerThreads,
      },
      models,
      machine: { before, after: machineInfo() },
    };
    await mkdir(path.join(repoRoot, 'bench/results'), { recursive: true });
    await writeFile(
      path.join(repoRoot, 'bench/results/vs-llama-server.json'),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    for (const figures of models) for (const line of summary(figures)) console.log(line);
    console.log(
      `load average before ${before.loadAverage.join(' ')}, after ${result.machine.after.loadAverage.join(' ')}`,
    );
  });

await program.parseAsync(process.argv);
// node-llama-cpp keeps native handles alive after the floor's in-process runs; the bench is done.
process.exit(0);

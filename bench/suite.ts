// The standard benchmark suite (`npm run bench`): LMX as a child process on each benchmark model, measured
// with the same load generator as `lmx bench`, next to node-llama-cpp in-process. Results go to
// bench/results/ as JSON and a self-contained HTML page; how to read them: bench/README.md.

import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { GgufInsights, readGgufFileInfo } from 'node-llama-cpp';
import writeFileAtomic from 'write-file-atomic';
import { chooseThreads } from '../server/engine/threads.ts';
import { runBench, type BenchResult } from '../loadgen/bench-run.ts';
import { machineInfo } from '../loadgen/machine.ts';
import { distribution } from '../loadgen/percentiles.ts';
import { builtInPrompts } from '../loadgen/prompts.ts';
import { writeReport } from '../loadgen/report-files.ts';
import type { ScenarioName } from '../loadgen/scenarios.ts';
import { ensureGeneratedModel, storiesModelPath } from '../test/fixtures/models.ts';
import { repoRoot, spawnServer, waitUntilReady, type ServerProcess } from '../test/helpers/server.ts';
import { measureEngine, peerFor, ratio } from './engine-ratios.ts';
import { InProcessEngine, summarizeInProcess, type InProcessRun } from './in-process.ts';
import { renderSuiteHtml } from './suite-report.ts';
import type { CaseFigures, ModelRun, SuiteResult } from './suite-types.ts';

interface SuiteFlags {
  overheadOnly: boolean;
  engineOnly: boolean;
  out: string;
  models: string[];
  threads: number;
  gpu: 'auto' | 'off';
  maxTokens: number;
  caseSeconds: number;
  quick: boolean;
}

/** Server settings of every suite run: the product defaults, with a queue small enough to fill. */
const parallel = 4;
const maxQueued = 8;
const contextSize = 4096;
/** Issue 8's generation length for the engine figures. */
const engineTokens = 128;

interface SuiteCase {
  name: string;
  scenario: ScenarioName;
  concurrency: number;
  requests: (quick: boolean) => number;
  /** max_tokens of this case, given the suite's setting and the cases measured before it. */
  maxTokens?: (configured: number, before: readonly CaseFigures[]) => number;
}

/**
 * The pressure case's queue is full only until its first running request finishes, and the probes need
 * that window: size the requests from the 4-stream case's aggregate rate so it lasts about 8 s
 * (window ≈ max_tokens ÷ (rate ÷ parallel)), within 16..1024 tokens.
 */
function pressureTokens(configured: number, before: readonly CaseFigures[]): number {
  const rate = before.find((c) => c.concurrency === parallel)?.outputTokensPerSecond;
  if (!rate) return configured;
  return Math.round(Math.min(1024, Math.max(16, (8 * rate) / parallel)));
}

const cases: SuiteCase[] = [
  { name: 'single stream', scenario: 'sustained', concurrency: 1, requests: (quick) => (quick ? 3 : 8) },
  { name: '4 streams', scenario: 'sustained', concurrency: 4, requests: (quick) => (quick ? 4 : 16) },
  { name: '8 streams', scenario: 'sustained', concurrency: 8, requests: (quick) => (quick ? 8 : 32) },
  // More at once than running slots plus queue places: 12 of them must be refused.
  {
    name: 'pressure',
    scenario: 'pressure',
    concurrency: parallel + maxQueued + 12,
    requests: () => parallel + maxQueued + 12,
    maxTokens: pressureTokens,
  },
];

async function main(flags: SuiteFlags): Promise<void> {
  const startedAt = new Date();
  const stamp = startedAt
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replaceAll(':', '-');
  const outDir = path.resolve(flags.out);
  const caseDir = path.join(outDir, `suite-${stamp}`);
  const models = await benchModels(flags.models);
  const runs: ModelRun[] = [];
  log(`LMX bench suite: ${models.map((m) => m.name).join(', ')}; threads ${flags.threads}, gpu ${flags.gpu}`);

  for (const model of models) {
    log(`\n== ${model.name} (${model.path})`);
    const run: ModelRun = {
      model: await describeModel(model.name, model.path),
      cases: [],
      inProcess: undefined,
    };
    const dataDir = await mkdtemp(path.join(tmpdir(), 'lmx-bench-suite-'));
    let server: ServerProcess | undefined;
    try {
      server = await spawnServer(
        [
          '--model',
          model.path,
          '--port',
          '0',
          '--threads',
          String(flags.threads),
          '--gpu',
          flags.gpu,
          '--parallel',
          String(parallel),
          '--context-size',
          String(contextSize),
          '--data-dir',
          dataDir,
          '--log-level',
          'warn',
        ],
        {
          LMX_RATE_LIMIT_EXEMPT_LOOPBACK: 'true',
          LMX_RATE_LIMIT_INFERENCE_PER_MINUTE: '1000000',
          LMX_QUEUE_MAX_QUEUED: String(maxQueued),
        },
        180_000,
      );
      await waitUntilReady(server.url, 180_000);
      for (const suiteCase of flags.overheadOnly || flags.engineOnly ? [] : cases) {
        log(`-- ${suiteCase.name}`);
        const result = await runBench({
          targets: [{ label: 'A', baseUrl: `${server.url}/v1` }],
          models: [],
          scenario: suiteCase.scenario,
          concurrency: suiteCase.concurrency,
          requests: suiteCase.requests(flags.quick),
          durationMs: flags.caseSeconds * 1000,
          maxTokens: suiteCase.maxTokens?.(flags.maxTokens, run.cases) ?? flags.maxTokens,
          promptSet: 'short',
          prompts: builtInPrompts('short'),
          endpoint: 'chat',
          ignoreEos: false,
          includeUsage: true,
          timeoutMs: 120_000,
          warmup: true,
        });
        const name = `${slug(model.name)}-${slug(suiteCase.name)}`;
        const files = await writeReport(
          result,
          caseDir,
          name,
          `LMX bench suite: ${model.name}, ${suiteCase.name}`,
        );
        const figures = caseFigures(suiteCase.name, result, path.relative(outDir, files.html));
        run.cases.push(figures);
        log(describeCase(figures));
      }
      if (!flags.engineOnly) {
        log('-- overhead: HTTP single stream and node-llama-cpp in-process, interleaved');
        await measureOverhead(run, server.url, model.path, flags);
        log(
          `   in-process TTFT p50 ${fmt(run.inProcess?.ttftMs?.p50)} ms, decode ${fmt(run.inProcess?.decodeTokensPerSecond?.p50)} tok/s; ` +
            `HTTP TTFT p50 ${fmt(run.overHttp?.ttftMs?.p50)} ms, decode ${fmt(run.overHttp?.decodeTokensPerSecond?.p50)} tok/s; ` +
            `HTTP ÷ in-process: decode ${fmt(run.overhead?.decodeRatio)}×, TTFT ${fmt(run.overhead?.ttftRatio)}×`,
        );
      }
      if (!flags.overheadOnly) {
        const peerUrl = peerFor(model.name, process.env.LMX_PEER_URL);
        log(
          `-- engine: ${engineTokens} greedy tokens at 1 and 4 streams, LMX ÷ addon floor${peerUrl ? ` and ÷ peer ${peerUrl}` : ' (set LMX_PEER_URL for a peer)'}`,
        );
        run.engine = await measureEngine({
          lmxUrl: `${server.url}/v1`,
          modelPath: model.path,
          threads: flags.threads,
          gpu: flags.gpu,
          sequences: parallel,
          contextSize,
          tokens: engineTokens,
          rounds: flags.quick ? 1 : 3,
          streams: [1, parallel],
          peers: peerUrl
            ? [{ label: 'peer', url: peerUrl, model: process.env.LMX_PEER_MODEL || undefined }]
            : [],
          timeoutMs: 120_000,
          log,
        });
        for (const c of run.engine.cases)
          log(
            `   ${c.streams} stream${c.streams > 1 ? 's' : ''}: LMX ${fmt(c.lmx.decodeTokensPerSecond)} tok/s, TTFT ${fmt(c.lmx.ttftMs)} ms; ` +
              `÷ floor ${fmt(c.lmxToFloor.decode)}× (TTFT ${fmt(c.lmxToFloor.ttft)}×)` +
              (c.lmxToPeers.peer
                ? `; ÷ peer ${fmt(c.lmxToPeers.peer.decode)}× (TTFT ${fmt(c.lmxToPeers.peer.ttft)}×)`
                : '') +
              `; floor ${fmt(c.floorTokensPerDecode)} tokens per decode` +
              (c.lmx.failed || c.peers.peer?.failed
                ? `; short or failed: LMX ${c.lmx.failed ?? 0}, peer ${c.peers.peer?.failed ?? 0}`
                : ''),
          );
      }
    } finally {
      if (server) await stopServer(server);
      await rm(dataDir, { recursive: true, force: true });
    }
    runs.push(run);
  }

  const result: SuiteResult = {
    schema: 'lmx-bench-suite/1',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    settings: {
      threads: flags.threads,
      threadPolicy: chooseThreads({ backend: 'cpu', configured: 0 }).reason,
      gpu: flags.gpu,
      parallel,
      maxQueued,
      contextSize,
      maxTokens: flags.maxTokens,
      prompt: 'short',
      endpoint: 'chat',
      caseSeconds: flags.caseSeconds,
      quick: flags.quick,
      rateLimit: 'loopback exempt',
    },
    models: runs,
  };
  const json = path.join(outDir, `suite-${stamp}.json`);
  const html = path.join(outDir, `suite-${stamp}.html`);
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(json, `${JSON.stringify(result, null, 2)}\n`);
  await writeFileAtomic(html, renderSuiteHtml(result));
  log(`\nwrote ${path.relative(process.cwd(), json)}\nwrote ${path.relative(process.cwd(), html)}`);
}

/**
 * Single-stream HTTP requests and in-process generations, alternating in rounds while the server idles
 * between its turns, so both meet the same machine conditions; the ratios compare the pooled medians.
 */
async function measureOverhead(
  run: ModelRun,
  url: string,
  modelPath: string,
  flags: SuiteFlags,
): Promise<void> {
  const engine = await InProcessEngine.open({
    modelPath,
    threads: flags.threads,
    gpu: flags.gpu,
    contextSize,
    sequences: parallel,
    prompt: builtInPrompts('short')[0]!.text,
    maxTokens: flags.maxTokens,
    timeoutMs: flags.caseSeconds * 1000,
  });
  const local: InProcessRun[] = [];
  const http: { ttftMs: number; decode?: number }[] = [];
  try {
    const rounds = flags.quick ? 2 : 4;
    for (let round = 0; round < rounds; round++) {
      const result = await runBench({
        targets: [{ label: 'A', baseUrl: `${url}/v1` }],
        models: [],
        scenario: 'sustained',
        concurrency: 1,
        requests: 2,
        durationMs: flags.caseSeconds * 1000,
        maxTokens: flags.maxTokens,
        promptSet: 'short',
        // The same prompt as in-process.
        prompts: builtInPrompts('short').slice(0, 1),
        endpoint: 'chat',
        ignoreEos: false,
        includeUsage: true,
        timeoutMs: 120_000,
        warmup: round === 0,
      });
      for (const request of result.requests) {
        if (request.outcome.class !== 'ok' || request.ttftMs === undefined) continue;
        http.push({ ttftMs: request.ttftMs, decode: request.tpotMs ? 1000 / request.tpotMs : undefined });
      }
      local.push(...(await engine.measure(2)));
    }
  } finally {
    await engine.dispose();
  }
  run.inProcess = summarizeInProcess(local);
  run.overHttp = {
    requests: http.length,
    ttftMs: distribution(http.map((sample) => sample.ttftMs)),
    decodeTokensPerSecond: distribution(http.flatMap((sample) => sample.decode ?? [])),
  };
  run.overhead = {
    decodeRatio: ratio(run.overHttp.decodeTokensPerSecond?.p50, run.inProcess.decodeTokensPerSecond?.p50),
    ttftRatio: ratio(run.overHttp.ttftMs?.p50, run.inProcess.ttftMs?.p50),
  };
}

/** The headline figures of one case (the full report is in the case's own files). */
function caseFigures(name: string, result: BenchResult, report: string): CaseFigures {
  const target = result.targets[0]!;
  const f = target.figures;
  const probe = result.pressure[0];
  return {
    name,
    scenario: result.settings.scenario,
    concurrency: result.settings.concurrency,
    maxTokens: result.settings.maxTokens,
    requests: f.requests,
    ok: f.outcomes.ok,
    refused: f.outcomes.rate_limited + f.outcomes.unavailable,
    errors: f.outcomes.error + f.outcomes.timeout,
    errorCodes: f.errorCodes,
    ttftP50Ms: f.ttftMs?.p50,
    ttftP95Ms: f.ttftMs?.p95,
    tpotP50Ms: f.tpotMs?.p50,
    latencyP95Ms: f.latencyMs?.p95,
    decodeTokensPerSecond: f.tpotMs ? 1000 / f.tpotMs.p50 : undefined,
    outputTokensPerSecond: f.outputTokensPerSecond,
    requestsPerSecond: f.requestsPerSecond,
    refusalP50Ms: f.refusalLatencyMs?.p50,
    refusalP99Ms: f.refusalLatencyMs?.p99,
    healthz: probe ? { ...probe.healthz.latencyMs, requests: probe.healthz.requests } : undefined,
    excess: probe
      ? {
          ...probe.excess.latencyMs,
          requests: probe.excess.requests,
          statusCounts: probe.excess.statusCounts,
        }
      : undefined,
    queueFullSeen: probe?.queueFullSeen,
    truncated: result.truncated,
    durationSeconds: result.durationSeconds,
    report,
  };
}

function describeCase(c: CaseFigures): string {
  const base =
    `   ${c.ok}/${c.requests} ok, TTFT p50 ${fmt(c.ttftP50Ms)} p95 ${fmt(c.ttftP95Ms)} ms, TPOT p50 ${fmt(c.tpotP50Ms)} ms, ` +
    `${fmt(c.outputTokensPerSecond)} tok/s aggregate${c.truncated ? ' (time bound reached)' : ''}`;
  if (!c.healthz) return base;
  return (
    `${base}\n   refused ${c.refused} (p50 ${fmt(c.refusalP50Ms)} ms, p99 ${fmt(c.refusalP99Ms)} ms); ` +
    `/healthz p99 ${fmt(c.healthz.p99)} ms under full queue; excess via autocannon p99 ${fmt(c.excess?.p99)} ms ` +
    JSON.stringify(c.excess?.statusCounts)
  );
}

async function benchModels(names: string[]): Promise<{ name: string; path: string }[]> {
  const found: { name: string; path: string }[] = [];
  for (const name of names) {
    if (name === 'bench100m') found.push({ name, path: await ensureGeneratedModel('bench100m') });
    else if (name === 'stories260K') {
      const stories = storiesModelPath();
      if (stories) found.push({ name, path: stories });
      else log('stories260K: ../shared/models/stories260K.gguf not present, skipped');
    } else found.push({ name: path.basename(name, '.gguf'), path: path.resolve(name) });
  }
  return found;
}

async function describeModel(name: string, file: string): Promise<ModelRun['model']> {
  const insights = await GgufInsights.from(await readGgufFileInfo(file, { logWarnings: false }));
  return {
    name,
    file: path.relative(repoRoot, file),
    bytes: (await stat(file)).size,
    parameters: insights.totalParameters,
    trainContextSize: insights.trainContextSize ?? 0,
  };
}

async function stopServer(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 60_000);
  await server.exited;
  clearTimeout(timer);
}

function fmt(value: number | undefined): string {
  if (value === undefined) return '—';
  return Math.abs(value) >= 100 ? Math.round(value).toString() : value.toPrecision(3);
}

function slug(value: string): string {
  return value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

function positive(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a number > 0');
  return number;
}

const program = new Command('bench-suite')
  .description('The standard LMX benchmark suite (results: bench/results/)')
  .option('--out <dir>', 'results directory', path.join(repoRoot, 'bench', 'results'))
  .option(
    '--models <list>',
    'bench100m, stories260K and/or GGUF paths, comma-separated',
    (v) => v.split(','),
    ['bench100m', 'stories260K'],
  )
  .option(
    '--threads <n>',
    'decode threads for the server and in-process (default: the server policy for this CPU)',
    positive,
    chooseThreads({ backend: 'cpu', configured: 0, cpuCount: availableParallelism() }).threads ?? 1,
  )
  .addOption(new Option('--gpu <choice>', 'GPU backend').choices(['auto', 'off']).default('auto'))
  .option('--max-tokens <n>', 'max_tokens of every request', positive, 64)
  .option('--case-seconds <s>', 'time bound of each case', positive, 60)
  .option('--quick', 'fewer requests per case (a smoke run)', false)
  .option('--overhead-only', 'only the HTTP ÷ in-process overhead measurement', false)
  .option('--engine-only', 'only the engine figures (LMX ÷ addon floor, ÷ LMX_PEER_URL)', false)
  .action(async (flags: SuiteFlags) => {
    await main(flags);
  });

await program.parseAsync(process.argv);
// node-llama-cpp keeps native handles alive after the in-process runs; the suite is done.
process.exit(0);

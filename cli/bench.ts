import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { runBench, type BenchResult } from '../loadgen/bench-run.ts';
import { loadPrompts, PromptFileError } from '../loadgen/prompts.ts';
import { writeReport } from '../loadgen/report-files.ts';
import { scenarioNames, type ScenarioName } from '../loadgen/scenarios.ts';
import type { Endpoint } from '../loadgen/stream-request.ts';
import { parseTargetUrl, TargetError, type BenchTarget } from '../loadgen/target.ts';
import { formatSummary } from '../loadgen/text-summary.ts';
import type { RequestRecord } from '../loadgen/types.ts';

import { EXIT } from '../shared/exit-codes.ts';

interface BenchFlags {
  url: string;
  apiKey?: string;
  compare?: string;
  compareApiKey?: string;
  model: string[];
  scenario: ScenarioName;
  concurrency?: number;
  requests?: number;
  duration?: number;
  maxTokens: number;
  prompts: string;
  endpoint: Endpoint;
  ignoreEos: boolean;
  temperature?: number;
  usage: boolean;
  warmup: boolean;
  timeout: number;
  out: string;
  allowRemote: boolean;
  progress: boolean;
}

export function benchCommand(): Command {
  return new Command('bench')
    .exitOverride()
    .description('Load-test an OpenAI-compatible server: TTFT, TPOT, latency percentiles, throughput, errors')
    .option('--url <url>', 'OpenAI base URL of the target', 'http://127.0.0.1:1235/v1')
    .option(
      '--api-key <key>',
      'bearer key for the target (env LMX_BENCH_API_KEY)',
      process.env.LMX_BENCH_API_KEY,
    )
    .option(
      '--compare <url>',
      'a second target, run interleaved with the first (A, B, A, B …); ratios reported',
    )
    .option('--compare-api-key <key>', 'bearer key for the --compare target (default: --api-key)')
    .option(
      '--model <id>',
      'model to request (repeatable; model-churn spreads requests over all)',
      collect,
      [],
    )
    .addOption(
      new Option('--scenario <name>', 'load shape')
        .choices(scenarioNames)
        .default('sustained' as ScenarioName),
    )
    .option(
      '--concurrency <n>',
      'streams in flight (burst: size; ramp: top step) [4; pressure: 80]',
      positiveInt,
    )
    .option(
      '--requests <n>',
      'requests per target (ramp: per step) [40, or 100000 with --duration]',
      positiveInt,
    )
    .option('--duration <seconds>', 'time bound of the whole run [600]', positiveNumber)
    .option('--max-tokens <n>', 'max_tokens of every request', positiveInt, 64)
    .option(
      '--prompts <set>',
      'short, medium, long, or a JSONL file ({"prompt"} or {"messages"} per line)',
      'short',
    )
    .addOption(
      new Option('--endpoint <name>', 'OpenAI endpoint')
        .choices(['chat', 'completions'])
        .default('chat' as Endpoint),
    )
    .option('--ignore-eos', 'send ignore_eos: true for a fixed output length (LMX, llama.cpp, vLLM)', false)
    .option(
      '--temperature <t>',
      "sampling temperature of every request (default: the server's)",
      nonNegativeNumber,
    )
    .option('--no-usage', 'do not ask for stream usage; count streamed chunks as tokens')
    .option('--no-warmup', 'skip the unmeasured warm-up request per target')
    .option('--timeout <seconds>', 'client timeout of each request', positiveNumber, 120)
    .option('--out <dir>', 'directory for the JSON and HTML reports', 'lmx-bench-results')
    .option('--allow-remote', 'allow targets that are not on this machine (loopback)', false)
    .option('--no-progress', 'no live progress bar (it is off anyway when stderr is not a terminal)')
    .action(async (flags: BenchFlags) => {
      process.exitCode = await bench(flags);
    });
}

async function bench(flags: BenchFlags): Promise<number> {
  let targets: BenchTarget[];
  let prompts;
  try {
    targets = [{ label: 'A', baseUrl: parseTargetUrl(flags.url, flags.allowRemote), apiKey: flags.apiKey }];
    if (flags.compare) {
      const baseUrl = parseTargetUrl(flags.compare, flags.allowRemote);
      targets.push({ label: 'B', baseUrl, apiKey: flags.compareApiKey ?? flags.apiKey });
    }
    prompts = await loadPrompts(flags.prompts);
  } catch (error) {
    if (error instanceof TargetError || error instanceof PromptFileError) {
      process.stderr.write(`lmx bench: ${error.message}\n`);
      return EXIT.config;
    }
    throw error;
  }

  const cancel = new AbortController();
  const onSignal = () => {
    if (cancel.signal.aborted) process.exit(130);
    process.stderr.write('\nlmx bench: stopping (press Ctrl-C again to quit at once)\n');
    cancel.abort(new Error('cancelled'));
  };
  process.on('SIGINT', onSignal);
  const progress = flags.progress && process.stderr.isTTY ? new ProgressDisplay() : undefined;
  let result: BenchResult;
  try {
    result = await runBench({
      targets,
      models: flags.model,
      scenario: flags.scenario,
      concurrency: flags.concurrency ?? (flags.scenario === 'pressure' ? 80 : 4),
      requests: flags.requests ?? (flags.duration === undefined ? 40 : 100_000),
      durationMs: (flags.duration ?? 600) * 1000,
      maxTokens: flags.maxTokens,
      promptSet: flags.prompts,
      prompts,
      endpoint: flags.endpoint,
      ignoreEos: flags.ignoreEos,
      temperature: flags.temperature,
      includeUsage: flags.usage,
      timeoutMs: flags.timeout * 1000,
      warmup: flags.warmup,
      signal: cancel.signal,
      onPlan: (planned) => progress?.start(planned),
      onRecord: (record) => progress?.update(record),
    });
  } catch (error) {
    progress?.stop();
    if (error instanceof TargetError) {
      process.stderr.write(`lmx bench: ${error.message}\n`);
      return EXIT.config;
    }
    throw error;
  } finally {
    progress?.stop();
    process.off('SIGINT', onSignal);
  }
  process.stdout.write(`${formatSummary(result)}\n`);
  const files = await writeReport(result, flags.out);
  process.stdout.write(`wrote ${files.json}\nwrote ${files.html}\n`);
  return 0;
}

/** The live bar with running figures; only on a terminal. */
class ProgressDisplay {
  readonly #bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} | ok {ok} err {errors} | {tokensPerSecond} tok/s | TTFT last {ttft} ms',
      hideCursor: true,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  #ok = 0;
  #errors = 0;
  #tokens = 0;
  #startedAt = performance.now();
  #started = false;

  start(total: number): void {
    this.#startedAt = performance.now();
    this.#bar.start(total, 0, { ok: 0, errors: 0, tokensPerSecond: '0', ttft: '—' });
    this.#started = true;
  }

  update(record: RequestRecord): void {
    if (record.outcome.class === 'ok') this.#ok++;
    else this.#errors++;
    this.#tokens += record.outputTokens;
    const seconds = (performance.now() - this.#startedAt) / 1000;
    this.#bar.increment(1, {
      ok: this.#ok,
      errors: this.#errors,
      tokensPerSecond: seconds > 0 ? (this.#tokens / seconds).toFixed(1) : '0',
      ttft: record.ttftMs === undefined ? '—' : record.ttftMs.toFixed(0),
    });
  }

  stop(): void {
    if (this.#started) this.#bar.stop();
    this.#started = false;
  }
}

function positiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return number;
}

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a number > 0');
  return number;
}

function nonNegativeNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0) throw new InvalidArgumentError('expected a number ≥ 0');
  return number;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

import client from 'prom-client';
import { thermalStateLevel, type HostSignalsSnapshot } from '../runtime/host-signals.ts';

export type RejectionReason =
  'queue_full' | 'queue_timeout' | 'rate_limited' | 'shed' | 'draining' | 'unauthorized';

/** What the metrics read when Prometheus scrapes: the live state of models, GPU and host. */
export interface MetricSources {
  models(): { id: string; queued: number; running: number; memoryBytes: number }[];
  vram(): Promise<{ used: number; total: number }>;
  host(): HostSignalsSnapshot;
  /** What /readyz answers, so alerts see a draining or safe-mode node that still answers scrapes. */
  ready(): boolean;
}

export interface InferenceSample {
  model: string;
  promptTokens: number;
  /** Of the prompt, tokens reused from the sequence's previous request (prompt cache). */
  cachedPromptTokens: number;
  completionTokens: number;
  timeToFirstTokenSeconds?: number;
  /** Mean time per output token after the first. */
  timePerOutputTokenSeconds?: number;
}

/** The route a request matched, as a metric label (its pattern, not its URL: ids stay out of labels). */
export function routeLabel(request: { routeOptions: { url?: string } }): string {
  return request.routeOptions.url ?? 'unmatched';
}

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const tokenTimeBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1];

/**
 * The server's Prometheus metrics, in a registry of its own (several servers may share a process in
 * tests). Gauges of live state are filled at scrape time from the sources, never kept in sync by hand.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly #requests;
  readonly #requestDuration;
  readonly #ttft;
  readonly #tpot;
  readonly #promptTokens;
  readonly #cachedPromptTokens;
  readonly #generatedTokens;
  readonly #rejected;
  readonly #embeddedTokens;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry });
    this.#requests = new client.Counter({
      name: 'lmx_requests_total',
      help: 'HTTP requests answered, by route, method and status code.',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    });
    this.#requestDuration = new client.Histogram({
      name: 'lmx_request_duration_seconds',
      help: 'Time from request to the end of the response.',
      labelNames: ['route', 'method'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.#ttft = new client.Histogram({
      name: 'lmx_time_to_first_token_seconds',
      help: 'Time from the start of generation to the first output token.',
      labelNames: ['model'] as const,
      buckets: latencyBuckets,
      registers,
    });
    this.#tpot = new client.Histogram({
      name: 'lmx_time_per_output_token_seconds',
      help: 'Mean time per output token after the first, per request.',
      labelNames: ['model'] as const,
      buckets: tokenTimeBuckets,
      registers,
    });
    this.#promptTokens = new client.Counter({
      name: 'lmx_prompt_tokens_total',
      help: 'Prompt tokens of inference requests (cached ones included).',
      labelNames: ['model'] as const,
      registers,
    });
    this.#cachedPromptTokens = new client.Counter({
      name: 'lmx_prompt_cached_tokens_total',
      help: 'Prompt tokens reused from an earlier request on the same sequence (prompt cache), not evaluated again.',
      labelNames: ['model'] as const,
      registers,
    });
    this.#generatedTokens = new client.Counter({
      name: 'lmx_generated_tokens_total',
      help: 'Output tokens generated.',
      labelNames: ['model'] as const,
      registers,
    });
    this.#embeddedTokens = new client.Counter({
      name: 'lmx_embedded_tokens_total',
      help: 'Tokens evaluated for embeddings and reranking, by model (on this node or a helper).',
      labelNames: ['model'] as const,
      registers,
    });
    this.#rejected = new client.Counter({
      name: 'lmx_rejected_requests_total',
      help: 'Requests refused before any work, by reason.',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of [
      'queue_full',
      'queue_timeout',
      'rate_limited',
      'shed',
      'draining',
      'unauthorized',
    ]) {
      this.#rejected.inc({ reason }, 0);
    }
    this.#liveGauges(sources, registers);
  }

  #liveGauges(sources: MetricSources, registers: client.Registry[]): void {
    new client.Gauge({
      name: 'lmx_queued_requests',
      help: 'Requests waiting for a free sequence, by model.',
      labelNames: ['model'] as const,
      registers,
      collect() {
        this.reset();
        for (const model of sources.models()) this.set({ model: model.id }, model.queued);
      },
    });
    new client.Gauge({
      name: 'lmx_inflight_requests',
      help: 'Generations running now, by model.',
      labelNames: ['model'] as const,
      registers,
      collect() {
        this.reset();
        for (const model of sources.models()) this.set({ model: model.id }, model.running);
      },
    });
    new client.Gauge({
      name: 'lmx_ready',
      help: 'Whether /readyz answers 200 (1) or 503 (0: starting, loading, draining, safe mode, no model).',
      registers,
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    });
    new client.Gauge({
      name: 'lmx_models_loaded',
      help: 'Models loaded in memory.',
      registers,
      collect() {
        this.set(sources.models().length);
      },
    });
    new client.Gauge({
      name: 'lmx_model_memory_bytes',
      help: 'Estimated memory held by each loaded model (weights and context).',
      labelNames: ['model'] as const,
      registers,
      collect() {
        this.reset();
        for (const model of sources.models()) this.set({ model: model.id }, model.memoryBytes);
      },
    });
    const vramTotal = new client.Gauge({
      name: 'lmx_vram_total_bytes',
      help: 'GPU memory in total.',
      registers,
    });
    new client.Gauge({
      name: 'lmx_vram_used_bytes',
      help: 'GPU memory in use.',
      registers,
      async collect() {
        const vram = await sources.vram();
        this.set(vram.used);
        vramTotal.set(vram.total);
      },
    });
    new client.Gauge({
      name: 'lmx_thermal_state',
      help: 'Thermal state reported by the host: -1 unknown, 0 nominal, 1 fair, 2 serious, 3 critical.',
      registers,
      collect() {
        this.set(thermalStateLevel[sources.host().thermalState]);
      },
    });
    new client.Gauge({
      name: 'lmx_cpu_speed_limit_percent',
      help: 'CPU speed limit reported by the host (100 = unthrottled; absent when never reported).',
      registers,
      collect() {
        this.reset();
        const percent = sources.host().speedLimitPercent;
        if (percent !== null) this.set(percent);
      },
    });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requests.inc({ route, method, status: String(status) });
    this.#requestDuration.observe({ route, method }, seconds);
  }

  observeInference(sample: InferenceSample): void {
    const model = sample.model;
    this.#promptTokens.inc({ model }, sample.promptTokens);
    this.#cachedPromptTokens.inc({ model }, sample.cachedPromptTokens);
    this.#generatedTokens.inc({ model }, sample.completionTokens);
    if (sample.timeToFirstTokenSeconds !== undefined)
      this.#ttft.observe({ model }, sample.timeToFirstTokenSeconds);
    if (sample.timePerOutputTokenSeconds !== undefined) {
      this.#tpot.observe({ model }, sample.timePerOutputTokenSeconds);
    }
  }

  observeEmbedding(model: string, tokens: number): void {
    this.#embeddedTokens.inc({ model }, tokens);
  }

  reject(reason: RejectionReason): void {
    this.#rejected.inc({ reason });
  }
}

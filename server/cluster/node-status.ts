import type { PeerNode } from '../../shared/admin-api.ts';

/**
 * What one LMX node says about itself on its public routes (/readyz, /metrics): used by the rolling
 * restart and by the dashboard's view of the pool. A client of those routes only; no server internals.
 */
export type NodeStatus = Omit<PeerNode, 'tokensPerSecond'> & {
  /** lmx_generated_tokens_total summed over models: tokens/s is its rate between two readings. */
  generatedTokens: number;
  readAt: number;
};

export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped; label values unescaped). */
export function parseMetricsText(text: string): MetricSample[] {
  const samples: MetricSample[] = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const row of text.split('\n')) {
    if (row.startsWith('#')) continue;
    const match = line.exec(row);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(label)) {
      labels[key as string] = (value as string).replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

/** Reads a node's /readyz and /metrics (each bounded by timeoutMs). Never throws. */
export async function readNodeStatus(url: string, timeoutMs = 2000): Promise<NodeStatus> {
  const base = url.replace(/\/$/, '');
  const status: NodeStatus = {
    url: base,
    reachable: false,
    ready: false,
    reason: null,
    models: [],
    queued: 0,
    inflight: 0,
    generatedTokens: 0,
    readAt: Date.now(),
  };
  try {
    const [readyz, metrics] = await Promise.all([
      fetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) }),
      fetch(`${base}/metrics`, { signal: AbortSignal.timeout(timeoutMs) }),
    ]);
    const readiness = (await readyz.json()) as { reason?: unknown };
    status.reachable = true;
    status.ready = readyz.status === 200;
    status.reason = status.ready ? null : typeof readiness.reason === 'string' ? readiness.reason : 'unknown';
    const samples = metrics.ok ? parseMetricsText(await metrics.text()) : [];
    const sum = (name: string) =>
      samples.filter((sample) => sample.name === name).reduce((total, sample) => total + sample.value, 0);
    status.models = samples
      .filter((sample) => sample.name === 'lmx_model_memory_bytes' && sample.labels.model)
      .map((sample) => sample.labels.model as string)
      .sort();
    status.queued = sum('lmx_queued_requests');
    status.inflight = sum('lmx_inflight_requests');
    status.generatedTokens = sum('lmx_generated_tokens_total');
  } catch (error) {
    status.reason = status.reachable ? 'bad answer' : `unreachable: ${(error as Error).message}`;
  }
  return status;
}

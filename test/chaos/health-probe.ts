// A separate process that asks a server's /healthz and /readyz every few milliseconds for a bounded time
// and prints one JSON line of what it saw: latencies are measured outside the process that makes the load,
// so a busy load generator does not count against the server.
//
//   node --import tsx test/chaos/health-probe.ts <base url> <seconds> [interval ms]

import { percentile } from '../../loadgen/percentiles.ts';

export interface ProbeSeries {
  probes: number;
  /** Probes that got no answer within the probe timeout, or an answer that was not HTTP. */
  failures: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export type ProbeReport = Record<'healthz' | 'readyz', ProbeSeries>;

const PROBE_TIMEOUT_MS = 5_000;

async function probe(url: string, latencies: number[], series: ProbeSeries): Promise<void> {
  const started = performance.now();
  series.probes++;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    await response.arrayBuffer();
    latencies.push(performance.now() - started);
    series.statuses[response.status] = (series.statuses[response.status] ?? 0) + 1;
  } catch {
    series.failures++;
  }
}

async function main(): Promise<void> {
  const [baseUrl, seconds, interval = '50'] = process.argv.slice(2);
  if (!baseUrl || !seconds) throw new Error('usage: health-probe.ts <base url> <seconds> [interval ms]');
  const deadline = Date.now() + Number(seconds) * 1000;
  const latencies = { healthz: [] as number[], readyz: [] as number[] };
  const report: ProbeReport = {
    healthz: { probes: 0, failures: 0, statuses: {}, p50Ms: 0, p99Ms: 0, maxMs: 0 },
    readyz: { probes: 0, failures: 0, statuses: {}, p50Ms: 0, p99Ms: 0, maxMs: 0 },
  };
  while (Date.now() < deadline) {
    await Promise.all([
      probe(`${baseUrl}/healthz`, latencies.healthz, report.healthz),
      probe(`${baseUrl}/readyz`, latencies.readyz, report.readyz),
    ]);
    await new Promise((resolve) => setTimeout(resolve, Number(interval)));
  }
  for (const name of ['healthz', 'readyz'] as const) {
    report[name].p50Ms = round(percentile(latencies[name], 50) ?? 0);
    report[name].p99Ms = round(percentile(latencies[name], 99) ?? 0);
    report[name].maxMs = round(percentile(latencies[name], 100) ?? 0);
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

await main();

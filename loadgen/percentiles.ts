import type { Distribution } from './types.ts';

/**
 * The q-th percentile (0–100) of a sample by linear interpolation between closest ranks — the
 * definition numpy uses by default, and with it vLLM's serving benchmark, so figures line up.
 * Undefined for an empty sample.
 */
export function percentile(samples: readonly number[], q: number): number | undefined {
  if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile must be within 0..100, got ${q}`);
  const sorted = sortedFinite(samples);
  return percentileOfSorted(sorted, q);
}

function percentileOfSorted(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = (q / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (rank - lower);
}

function sortedFinite(samples: readonly number[]): number[] {
  return samples.filter((value) => Number.isFinite(value)).sort((a, b) => a - b);
}

/** Summary of a sample; undefined when it holds no finite value. */
export function distribution(samples: readonly number[]): Distribution | undefined {
  const sorted = sortedFinite(samples);
  if (sorted.length === 0) return undefined;
  const at = (q: number) => percentileOfSorted(sorted, q) as number;
  return {
    count: sorted.length,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
    min: sorted[0] as number,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1] as number,
  };
}

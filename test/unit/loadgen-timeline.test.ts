import { describe, expect, it } from 'vitest';
import { timeline } from '../../loadgen/summarize.ts';
import type { RequestRecord } from '../../loadgen/types.ts';

function record(startMs: number, chunkOffsetsMs: number[]): RequestRecord {
  return {
    target: 'A',
    step: 'all',
    model: 'm',
    startMs,
    latencyMs: chunkOffsetsMs.at(-1) ?? 0,
    interTokenMs: [],
    outputTokens: chunkOffsetsMs.length,
    tokenSource: 'chunks',
    chunkOffsetsMs,
    outcome: { class: 'ok' } as RequestRecord['outcome'],
  };
}

describe('timeline', () => {
  it('uses quarter-second buckets for a run of seconds', () => {
    const result = timeline([record(0, [100, 600, 1100])], 10_000);
    expect(result.bucketMs).toBe(250);
    expect(result.series.A!.tokensPerSecond).toHaveLength(40);
    expect(result.series.A!.tokensPerSecond.reduce((a, b) => a + b, 0) * 0.25).toBeCloseTo(3);
  });

  it('gives a run shorter than a bucket a curve of several points, not one', () => {
    const result = timeline([record(0, [5, 40, 90, 150])], 200);
    expect(result.bucketMs).toBe(10);
    const series = result.series.A!.tokensPerSecond;
    expect(series.length).toBeGreaterThanOrEqual(2);
    expect(series.filter((value) => value > 0).length).toBe(4);
    expect(series.reduce((a, b) => a + b, 0) * 0.01).toBeCloseTo(4);
  });
});

import { describe, expect, it } from 'vitest';
import { httpSample, peerFor } from '../../bench/engine-ratios.ts';
import type { BenchResult } from '../../loadgen/bench-run.ts';

describe('engine figures of the bench suite', () => {
  it('adds concurrent streams’ decode rates, takes the median TTFT and counts short or failed requests', () => {
    const request = (tpotMs: number, ttftMs: number, outputTokens: number, ok = true) => ({
      tpotMs,
      ttftMs,
      outputTokens,
      outcome: ok ? { class: 'ok' } : { class: 'error', code: 'stream_error' },
    });
    const result = {
      settings: { maxTokens: 128 },
      requests: [request(10, 30, 128), request(5, 50, 128), request(4, 40, 100), request(1, 1, 128, false)],
    } as unknown as BenchResult;
    const sample = httpSample(result);
    // 100 + 200 + 250 tok/s from the three that streamed; the failed one adds nothing.
    expect(sample.decode).toBeCloseTo(550);
    expect(sample.ttft).toBe(40);
    expect(sample.failed).toBe(2);
  });

  it('finds the peer of a model in LMX_PEER_URL, one URL for all or one per model', () => {
    expect(peerFor('bench100m', undefined)).toBeUndefined();
    expect(peerFor('bench100m', 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    const perModel = 'bench100m=http://127.0.0.1:8089, stories260K=http://127.0.0.1:8090/v1';
    expect(peerFor('bench100m', perModel)).toBe('http://127.0.0.1:8089');
    expect(peerFor('stories260K', perModel)).toBe('http://127.0.0.1:8090/v1');
    expect(peerFor('other', perModel)).toBeUndefined();
  });
});

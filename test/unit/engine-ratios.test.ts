import { describe, expect, it } from 'vitest';
import {
  againstBest,
  decodeOverWallSpan,
  httpSample,
  peerFor,
  ttftFigures,
} from '../../bench/engine-ratios.ts';
import type { BenchResult } from '../../loadgen/bench-run.ts';

describe('engine figures of the bench suite', () => {
  it('divides all streams’ decode tokens by the wall span, lists each stream’s TTFT and counts short or failed requests', () => {
    const request = (
      startMs: number,
      ttftMs: number,
      latencyMs: number,
      outputTokens: number,
      ok = true,
    ) => ({
      startMs,
      ttftMs,
      latencyMs,
      tpotMs: (latencyMs - ttftMs) / (outputTokens - 1),
      outputTokens,
      outcome: ok ? { class: 'ok' } : { class: 'error', code: 'stream_error' },
    });
    const result = {
      settings: { maxTokens: 101 },
      requests: [
        request(0, 30, 1030, 101),
        request(0, 50, 1050, 101),
        request(0, 40, 540, 51),
        request(0, 1, 2, 101, false),
      ],
    } as unknown as BenchResult;
    const sample = httpSample(result);
    // 100 + 100 + 50 tokens after the first ones, from the earliest first token (30 ms) to the last end (1050 ms).
    expect(sample.decode).toBeCloseTo((250 * 1000) / 1020);
    expect(sample.ttft).toBe(40);
    expect(sample.ttftPerStream).toEqual([30, 40, 50]);
    expect(sample.failed).toBe(2);
  });

  it('counts streams that did not overlap at their serialized rate, not as the sum of their rates', () => {
    // Three streams side by side for 1 s, the fourth gets its first token only when they have finished.
    const overlapping = [0, 1, 2].map(() => ({ startMs: 0, ttftMs: 10, latencyMs: 1010, outputTokens: 101 }));
    const stalled = { startMs: 0, ttftMs: 1010, latencyMs: 1510, outputTokens: 101 };
    const rate = decodeOverWallSpan([...overlapping, stalled]);
    // 400 tokens in 1.5 s, though the sum of the per-stream rates would say 3 × 100 + 200 = 500 tok/s.
    expect(rate).toBeCloseTo(400 / 1.5);
    expect(decodeOverWallSpan(overlapping)).toBeCloseTo(300);
    // One stream: the usual 1000 ÷ TPOT.
    expect(decodeOverWallSpan([stalled])).toBeCloseTo(200);
    expect(decodeOverWallSpan([])).toBeNaN();
  });

  it('finds the peer of a model in LMX_PEER_URL, one URL for all or one per model', () => {
    expect(peerFor('bench100m', undefined)).toBeUndefined();
    expect(peerFor('bench100m', 'http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
    const perModel = 'bench100m=http://127.0.0.1:8089, stories260K=http://127.0.0.1:8090/v1';
    expect(peerFor('bench100m', perModel)).toBe('http://127.0.0.1:8089');
    expect(peerFor('stories260K', perModel)).toBe('http://127.0.0.1:8090/v1');
    expect(peerFor('other', perModel)).toBeUndefined();
  });

  it('compares LMX with the peer setting that is best at each figure: fastest decode, shortest TTFT', () => {
    const side = (decodeTokensPerSecond: number | undefined, ttftMs: number | undefined) => ({
      decodeTokensPerSecond,
      ttftMs,
      rounds: [],
      ttftRounds: [],
    });
    const best = againstBest(side(90, 30), {
      t1: side(100, 20),
      t2: side(120, 40),
      broken: side(undefined, undefined),
    });
    expect(best).toEqual({ decode: 90 / 120, decodePeer: 't2', ttft: 30 / 20, ttftPeer: 't1' });
    expect(againstBest(side(90, 30), {})).toBeUndefined();
  });

  it('gives the TTFT phase as medians of every request and LMX ÷ the quickest peer', () => {
    const figures = ttftFigures(
      new Map([
        ['lmx', [12, 10, 40, 11, 9]],
        ['-t 1', [9, 8, 30, 9, 10]],
        ['-t 2', [5, 6, 4, 90, 5]],
      ]),
      ['-t 1', '-t 2'],
    );
    expect(figures.requests).toBe(5);
    expect(figures.lmx.ttftMs).toBe(11);
    expect(figures.peers).toEqual({ '-t 1': { ttftMs: 9 }, '-t 2': { ttftMs: 5 } });
    expect(figures.lmxToBestPeer).toEqual({ ratio: 11 / 5, peer: '-t 2' });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { distribution, percentile } from '../../loadgen/percentiles.ts';

describe('percentile', () => {
  it('interpolates between closest ranks like numpy.percentile', () => {
    const oneToTen = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    // numpy.percentile(range(1, 11), [0, 50, 90, 95, 99, 100]) = 1, 5.5, 9.1, 9.55, 9.91, 10
    expect(percentile(oneToTen, 0)).toBe(1);
    expect(percentile(oneToTen, 50)).toBeCloseTo(5.5, 10);
    expect(percentile(oneToTen, 90)).toBeCloseTo(9.1, 10);
    expect(percentile(oneToTen, 95)).toBeCloseTo(9.55, 10);
    expect(percentile(oneToTen, 99)).toBeCloseTo(9.91, 10);
    expect(percentile(oneToTen, 100)).toBe(10);
  });

  it('handles one sample, no sample, and ignores non-finite values', () => {
    expect(percentile([42], 99)).toBe(42);
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([Number.NaN, 3, Number.POSITIVE_INFINITY, 1], 50)).toBe(2);
  });

  it('refuses a percentile outside 0..100', () => {
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], -1)).toThrow(RangeError);
  });

  it('stays within the sample and grows with q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 50 }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (samples, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          const pLow = percentile(samples, low) as number;
          const pHigh = percentile(samples, high) as number;
          expect(pLow).toBeLessThanOrEqual(pHigh + 1e-9);
          expect(pLow).toBeGreaterThanOrEqual(Math.min(...samples) - 1e-9);
          expect(pHigh).toBeLessThanOrEqual(Math.max(...samples) + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('distribution', () => {
  it('summarizes a known sample', () => {
    const samples = Array.from({ length: 100 }, (_, index) => index + 1); // 1..100
    expect(distribution(samples)).toEqual({
      count: 100,
      mean: 50.5,
      min: 1,
      p50: 50.5,
      p90: expect.closeTo(90.1, 10) as number,
      p95: expect.closeTo(95.05, 10) as number,
      p99: expect.closeTo(99.01, 10) as number,
      max: 100,
    });
  });

  it('is undefined for an empty sample', () => {
    expect(distribution([])).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { overload } from '../chaos/overload.ts';

/** Buffers that grow with the refused requests would show as hundreds of MB in a few seconds. */
const MAX_RSS_GROWTH_BYTES = 256 * 1024 * 1024;

describe('10× the admission capacity, every refused client retrying at once', () => {
  it(
    'refuses the excess with Retry-After, completes what it accepts, keeps health answering',
    { timeout: 120_000 },
    async () => {
      const report = await overload({
        multiple: 10,
        seconds: Number(process.env.LMX_OVERLOAD_SECONDS ?? 10),
      });
      console.log(`overload: ${JSON.stringify(report)}`);
      for (const counts of [report.atCapacity, report]) {
        expect(counts.unexpected).toEqual([]);
        expect(counts.hung).toBe(0);
      }
      // At capacity every request is admitted (the queue holds what is not running).
      expect(report.atCapacity.refused).toBe(0);
      expect(report.completed).toBeGreaterThan(0);
      expect(report.refused).toBeGreaterThan(report.completed);
      for (const series of [report.health.healthz, report.health.readyz]) {
        expect(series.probes).toBeGreaterThan(0);
        expect(series.failures).toBe(0);
        expect(Object.keys(series.statuses)).toEqual(['200']);
      }
      if (report.peakRssBytes !== null && report.rssAtRestBytes !== null)
        expect(report.peakRssBytes - report.rssAtRestBytes).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    },
  );
});

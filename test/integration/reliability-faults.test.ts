import { describe, expect, it } from 'vitest';
import { FAULT_POINTS, killAtRandomPoints } from '../chaos/faults.ts';

const seed = Number(process.env.LMX_CHAOS_SEED ?? Date.now() % 2 ** 31);

describe('kill -9 at random points', () => {
  it(
    'every client notices within 1 s; every acknowledged load, document and stored response comes back; no partial download is listed',
    { timeout: 400_000 },
    async () => {
      console.log(`fault seed ${seed} (LMX_CHAOS_SEED=${seed} reproduces)`);
      const report = await killAtRandomPoints({
        rounds: Number(process.env.LMX_FAULT_ROUNDS ?? FAULT_POINTS.length),
        seed,
      });
      console.log(`faults: ${JSON.stringify(report)}`);
      expect(report.survived).toBe(report.injected);
      expect(report.lostAcknowledgedLoads).toBe(0);
      expect(report.lostAcknowledgedDocuments).toBe(0);
      expect(report.partialDocuments).toBe(0);
      expect(report.partialDownloadsListed).toBe(0);
      expect(report.lostAcknowledgedResponses).toBe(0);
      // The rounds that write them did write some: the checks above had something to check.
      expect(report.acknowledgedDocuments).toBeGreaterThan(1);
      expect(report.acknowledgedResponses).toBeGreaterThan(0);
      expect(Object.keys(report.byPoint).sort()).toEqual([...FAULT_POINTS].sort());
      expect(report.worstClientNoticeMs).toBeLessThan(1_000);
    },
  );
});

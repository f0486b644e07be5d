import { describe, expect, it } from 'vitest';
import { SOAK_OPERATIONS, soak } from '../chaos/soak.ts';

const seed = Number(process.env.LMX_CHAOS_SEED ?? Date.now() % 2 ** 31);
/** Descriptors a server may open and keep after the warm-up (a log rotation, a keep-alive socket). */
const FD_SLACK = 8;

describe('a bounded soak of mixed work', () => {
  it(
    'leaves nothing held at rest: no request, no sequence, no descriptor',
    { timeout: 180_000 },
    async () => {
      console.log(`soak seed ${seed} (LMX_CHAOS_SEED=${seed} reproduces)`);
      const report = await soak({ seconds: Number(process.env.LMX_SOAK_SECONDS ?? 20), seed });
      console.log(`soak: ${JSON.stringify(report)}`);
      expect(report.failures).toEqual([]);
      for (const operation of SOAK_OPERATIONS) expect(report.operations[operation] ?? 0).toBeGreaterThan(0);
      expect(report.inflightAtRest).toBe(0);
      expect(report.busySequencesAtRest).toBe(0);
      if (report.fdsAtEnd !== null && report.fdsAtRestAfterWarmUp !== null)
        expect(report.fdsAtEnd).toBeLessThanOrEqual(report.fdsAtRestAfterWarmUp + FD_SLACK);
    },
  );
});

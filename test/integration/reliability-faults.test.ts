import { describe, expect, it } from 'vitest';
import { killAtRandomPoints } from '../chaos/faults.ts';

const seed = Number(process.env.LMX_CHAOS_SEED ?? Date.now() % 2 ** 31);

describe('kill -9 at random points', () => {
  it(
    'every client notices within 1 s and every acknowledged load comes back',
    { timeout: 400_000 },
    async () => {
      console.log(`fault seed ${seed} (LMX_CHAOS_SEED=${seed} reproduces)`);
      const report = await killAtRandomPoints({ rounds: Number(process.env.LMX_FAULT_ROUNDS ?? 4), seed });
      console.log(`faults: ${JSON.stringify(report)}`);
      expect(report.survived).toBe(report.injected);
      expect(report.lostAcknowledgedLoads).toBe(0);
      expect(report.worstClientNoticeMs).toBeLessThan(1_000);
    },
  );
});

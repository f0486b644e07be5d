import { describe, expect, it } from 'vitest';
import { runPhase, type Phase } from '../../loadgen/run-phase.ts';
import { planPhases, rampLevels } from '../../loadgen/scenarios.ts';
import type { RequestRecord } from '../../loadgen/types.ts';

const fakeRecord = (phase: Phase, index: number): RequestRecord => ({
  target: phase.target,
  step: phase.step,
  model: 'm',
  startMs: index,
  latencyMs: 1,
  interTokenMs: [],
  outputTokens: 0,
  tokenSource: 'chunks',
  chunkOffsetsMs: [],
  outcome: { class: 'ok' },
});

describe('planPhases', () => {
  it('sustained against one target is one closed-loop phase', () => {
    expect(planPhases({ scenario: 'sustained', concurrency: 4, requests: 40, targets: ['A'] })).toEqual([
      { step: 'c=4', target: 'A', mode: 'closed', concurrency: 4, requests: 40 },
    ]);
  });

  it('interleaves two targets A, B, A, B … with the same requests each', () => {
    const phases = planPhases({ scenario: 'sustained', concurrency: 4, requests: 40, targets: ['A', 'B'] });
    expect(phases.map((phase) => phase.target)).toEqual(['A', 'B', 'A', 'B', 'A', 'B', 'A', 'B']);
    const total = (target: string) =>
      phases.filter((phase) => phase.target === target).reduce((sum, phase) => sum + phase.requests, 0);
    expect(total('A')).toBe(40);
    expect(total('B')).toBe(40);
    expect(phases.every((phase) => phase.concurrency === 4)).toBe(true);
  });

  it('ramps concurrency 1, 2, 4 … N with at least two requests per stream and step', () => {
    expect(rampLevels(8)).toEqual([1, 2, 4, 8]);
    expect(rampLevels(6)).toEqual([1, 2, 4, 6]);
    expect(rampLevels(1)).toEqual([1]);
    const phases = planPhases({ scenario: 'ramp', concurrency: 8, requests: 10, targets: ['A'] });
    expect(phases.map((phase) => [phase.step, phase.concurrency, phase.requests])).toEqual([
      ['c=1', 1, 10],
      ['c=2', 2, 10],
      ['c=4', 4, 10],
      ['c=8', 8, 16],
    ]);
  });

  it('bursts in rounds, alternating targets', () => {
    const phases = planPhases({ scenario: 'burst', concurrency: 5, requests: 12, targets: ['A', 'B'] });
    expect(phases.map((phase) => `${phase.target}${phase.mode}${phase.requests}`)).toEqual([
      'Aburst5',
      'Bburst5',
      'Aburst5',
      'Bburst5',
      'Aburst5',
      'Bburst5',
    ]);
  });

  it('pressure releases the whole load at once per target', () => {
    expect(planPhases({ scenario: 'pressure', concurrency: 30, requests: 1, targets: ['A'] })).toEqual([
      { step: 'pressure', target: 'A', mode: 'burst', concurrency: 30, requests: 30 },
    ]);
  });
});

describe('runPhase', () => {
  it('sends exactly the requested count, never more than `concurrency` at once', async () => {
    let inFlight = 0;
    let peak = 0;
    const phase: Phase = { step: 's', target: 'A', mode: 'closed', concurrency: 3, requests: 10 };
    const records = await runPhase(
      phase,
      async (p, index) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight--;
        return fakeRecord(p, index);
      },
      { deadline: performance.now() + 60_000 },
    );
    expect(records).toHaveLength(10);
    expect(new Set(records.map((record) => record.startMs)).size).toBe(10);
    expect(peak).toBe(3);
  });

  it('stops starting requests at the deadline', async () => {
    const phase: Phase = { step: 's', target: 'A', mode: 'closed', concurrency: 2, requests: 1_000_000 };
    const deadline = performance.now() + 50;
    const records = await runPhase(
      phase,
      async (p, index) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return fakeRecord(p, index);
      },
      { deadline },
    );
    expect(records.length).toBeGreaterThan(0);
    expect(records.length).toBeLessThan(1_000_000);
    expect(performance.now()).toBeGreaterThanOrEqual(deadline);
  });

  it('starts nothing once cancelled, and a burst sends all at once', async () => {
    const cancelled = new AbortController();
    cancelled.abort();
    const none = await runPhase(
      { step: 's', target: 'A', mode: 'closed', concurrency: 2, requests: 5 },
      async (p, index) => fakeRecord(p, index),
      { deadline: performance.now() + 60_000, signal: cancelled.signal },
    );
    expect(none).toEqual([]);

    let inFlight = 0;
    let peak = 0;
    const burst = await runPhase(
      { step: 'b', target: 'A', mode: 'burst', concurrency: 6, requests: 6 },
      async (p, index) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return fakeRecord(p, index);
      },
      { deadline: performance.now() + 60_000 },
    );
    expect(burst).toHaveLength(6);
    expect(peak).toBe(6);
  });
});

import { describe, expect, it } from 'vitest';
import {
  calibrateThreads,
  chooseThreads,
  libuvPoolSize,
  persistentPoolDecodeThreadsOnTwoCores,
  threadCandidates,
  type ThreadProbe,
} from '../../server/engine/threads.ts';

describe('chooseThreads', () => {
  it('uses the configured count on any backend', () => {
    expect(chooseThreads({ backend: 'cpu', configured: 3, cpuCount: 2 })).toMatchObject({
      threads: 3,
      reason: expect.stringContaining('configured'),
    });
    expect(chooseThreads({ backend: 'metal', configured: 6, cpuCount: 10 })).toMatchObject({ threads: 6 });
  });

  it("keeps node-llama-cpp's default on GPU backends unless configured", () => {
    for (const backend of ['metal', 'cuda', 'vulkan'] as const) {
      const choice = chooseThreads({ backend, configured: 0, cpuCount: 10 });
      expect(choice.threads).toBeUndefined();
      expect(choice.calibrationCandidates).toBeUndefined();
      expect(choice.reason).toContain(backend);
    }
  });

  it('picks 1 thread on 1- and 2-core CPUs, offering 1 vs 2 for calibration on 2', () => {
    expect(chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 1 })).toMatchObject({
      threads: 1,
      reason: 'cpu: 1 core',
    });
    const two = chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 2 });
    expect(two.threads).toBe(1);
    expect(two.calibrationCandidates).toEqual([1, 2]);
  });

  it("says in its reason whether decodes hop between libuv's pool threads", () => {
    const hopping = chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 2, libuvPool: 4 });
    expect(hopping.reason).toMatch(/hop between libuv's 4 pool threads/);
    const pinned = chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 2, libuvPool: 1 });
    expect(pinned.reason).toMatch(/UV_THREADPOOL_SIZE=1/);
    expect(pinned.calibrationCandidates).toEqual([1, 2]);
  });

  it('picks half the cores on bigger CPUs and offers 1, half, all-but-one', () => {
    const eight = chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 8 });
    expect(eight.threads).toBe(4);
    expect(eight.calibrationCandidates).toEqual([1, 4, 7]);
  });

  it('with the prebuilt addon, batches run at the decode count: it cannot set batch threads', () => {
    const two = chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 2 });
    expect(two.batchThreads).toBeUndefined();
    expect(two.batchReason).toMatch(/prebuilt addon/);
  });

  it('with persistent threadpools, evaluates batches on every core and decodes on the calibrated count', () => {
    const two = chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 2, persistentThreadpool: true });
    expect(two).toMatchObject({
      threads: persistentPoolDecodeThreadsOnTwoCores,
      batchThreads: 2,
      calibrationCandidates: [1, 2],
    });
    expect(two.reason).toMatch(/persistent threadpool/);
    expect(two.batchReason).toMatch(/every core \(2\)/);
    const eight = chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 8, persistentThreadpool: true });
    expect(eight).toMatchObject({ threads: 4, batchThreads: 8, calibrationCandidates: [1, 4, 7] });
    // A configured decode count leaves prompt evaluation on every core.
    expect(
      chooseThreads({ backend: 'cpu', configured: 1, cpuCount: 4, persistentThreadpool: true }),
    ).toMatchObject({
      threads: 1,
      batchThreads: 4,
    });
    // The GPU does the work either way.
    expect(
      chooseThreads({ backend: 'metal', configured: 0, cpuCount: 8, persistentThreadpool: true }),
    ).toMatchObject({
      threads: undefined,
      batchThreads: undefined,
    });
  });

  it('treats invalid configured values and odd core counts as automatic', () => {
    expect(chooseThreads({ backend: 'cpu', configured: 0, cpuCount: 0 }).threads).toBe(1);
    expect(chooseThreads({ backend: 'cpu', configured: 1.5, cpuCount: 2 }).threads).toBe(1);
    expect(chooseThreads({ backend: 'cpu', configured: -2, cpuCount: 3 }).threads).toBe(1);
  });
});

describe('threadCandidates', () => {
  it('is ascending, unique and within the core count', () => {
    for (let cores = 1; cores <= 64; cores++) {
      const c = threadCandidates(cores);
      expect(c[0]).toBe(1);
      expect([...c].sort((a, b) => a - b)).toEqual(c);
      expect(new Set(c).size).toBe(c.length);
      expect(Math.max(...c)).toBeLessThanOrEqual(cores);
    }
  });
});

/** Fake probes on a fake clock: a step at `threads` costs msPerStep[threads] ms. */
function fakeRig(msPerStep: Record<number, number>, failing: number[] = []) {
  let clock = 0;
  const steps: number[] = [];
  const disposed: number[] = [];
  const createProbe = async (threads: number): Promise<ThreadProbe> => {
    if (failing.includes(threads)) throw new Error('no memory');
    return {
      async step() {
        steps.push(threads);
        clock += msPerStep[threads] ?? 1;
      },
      dispose() {
        disposed.push(threads);
      },
    };
  };
  return { createProbe, now: () => clock, steps, disposed };
}

describe('calibrateThreads', () => {
  it('keeps the clearly faster candidate and reports both', async () => {
    const rig = fakeRig({ 1: 8, 2: 4.5 });
    const result = await calibrateThreads(rig.createProbe, [1, 2], { now: rig.now });
    expect(result.threads).toBe(2);
    expect(result.measurements).toEqual([
      { threads: 1, msPerStep: 8 },
      { threads: 2, msPerStep: 4.5 },
    ]);
    expect(result.reason).toMatch(/calibrated: 1t 8\.00 ms\/step, 2t 4\.50 ms\/step → 2/);
    expect(rig.disposed.sort()).toEqual([1, 2]);
  });

  it('prefers fewer threads unless more are at least minGain faster', async () => {
    const rig = fakeRig({ 1: 1.0, 2: 0.95 });
    expect((await calibrateThreads(rig.createProbe, [2, 1], { now: rig.now })).threads).toBe(1);
    const slow2 = fakeRig({ 1: 0.5, 2: 40 });
    expect((await calibrateThreads(slow2.createProbe, [1, 2], { now: slow2.now })).threads).toBe(1);
  });

  it('runs a bounded, interleaved number of steps', async () => {
    const rig = fakeRig({ 1: 1, 2: 1 });
    await calibrateThreads(rig.createProbe, [1, 2], { now: rig.now, warmupSteps: 1, steps: 2, rounds: 3 });
    expect(rig.steps).toHaveLength(2 * (1 + 2 * 3));
    // after warm-up, rounds alternate candidates
    expect(rig.steps.slice(2, 6)).toEqual([1, 1, 2, 2]);
  });

  it('skips a candidate whose probe fails and falls back when none works', async () => {
    const rig = fakeRig({ 1: 3, 2: 1 }, [2]);
    const one = await calibrateThreads(rig.createProbe, [1, 2], { now: rig.now });
    expect(one.threads).toBe(1);
    const none = fakeRig({}, [1, 2]);
    const fallback = await calibrateThreads(none.createProbe, [2, 1], { now: none.now });
    expect(fallback).toMatchObject({ threads: 1, measurements: [] });
    expect(fallback.reason).toContain('calibration failed');
  });

  it('disposes every probe even when a step throws', async () => {
    const disposed: number[] = [];
    const createProbe = async (threads: number): Promise<ThreadProbe> => ({
      async step() {
        if (threads === 2) throw new Error('decode failed');
      },
      dispose: () => void disposed.push(threads),
    });
    const result = await calibrateThreads(createProbe, [1, 2], { rounds: 1 });
    // the failing probe fails during warm-up and is dropped (and disposed) there
    expect(result.threads).toBe(1);
    expect(disposed.sort()).toEqual([1, 2]);
  });
});

describe('libuvPoolSize', () => {
  it('reads UV_THREADPOOL_SIZE the way libuv does', () => {
    expect(libuvPoolSize({})).toBe(4);
    expect(libuvPoolSize({ UV_THREADPOOL_SIZE: '1' })).toBe(1);
    expect(libuvPoolSize({ UV_THREADPOOL_SIZE: '16' })).toBe(16);
    expect(libuvPoolSize({ UV_THREADPOOL_SIZE: '0' })).toBe(1);
    expect(libuvPoolSize({ UV_THREADPOOL_SIZE: 'many' })).toBe(1);
    expect(libuvPoolSize({ UV_THREADPOOL_SIZE: '5000' })).toBe(1024);
  });
});

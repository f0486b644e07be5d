import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpuTicks, untilIdle } from '../../bench/process-idle.ts';

// A child that prints "spinning", spins on one core for `ms`, prints "done", then sleeps until killed. `spinning`
// resolves once the loop runs: before that the child is still starting, and may well look idle on a busy machine.
function spinner(ms: number) {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `console.log('spinning'); const end = Date.now() + ${ms}; while (Date.now() < end); console.log('done'); setInterval(() => {}, 1e6);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const printed = (word: string) =>
    new Promise<number>((resolve) =>
      child.stdout.on(
        'data',
        (chunk: Buffer) => chunk.toString().includes(word) && resolve(performance.now()),
      ),
    );
  const spinning = printed('spinning');
  const done = printed('done');
  return { child, spinning, done };
}

const linux = process.platform === 'linux';
if (!linux) console.log(`skipped: untilIdle reads /proc, which ${process.platform} does not have`);

describe.skipIf(!linux)('untilIdle (the bench waits for spinning servers)', () => {
  it('returns only after a busy process stops using the CPU', async () => {
    const { child, spinning, done } = spinner(600);
    try {
      await spinning;
      expect(cpuTicks(child.pid!)).toBeGreaterThan(0);
      await untilIdle([child.pid!], 10_000);
      const returned = performance.now();
      expect(returned).toBeGreaterThan(await done);
    } finally {
      child.kill();
    }
  });

  it('gives up at its bound while a process keeps spinning', async () => {
    const { child, spinning } = spinner(60_000);
    try {
      await spinning;
      const started = performance.now();
      await untilIdle([child.pid!], 500);
      expect(performance.now() - started).toBeGreaterThanOrEqual(450);
      expect(cpuTicks(child.pid!)).toBeGreaterThan(0);
    } finally {
      child.kill();
    }
  });
});

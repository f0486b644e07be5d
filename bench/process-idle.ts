// Waiting for servers to go quiet between measurements (Linux: reads /proc).
import { readFileSync } from 'node:fs';

/** CPU time a process has used so far, in clock ticks (user + system, every thread). */
export function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Waits until the processes together used at most one clock tick of CPU in each of two consecutive 50 ms windows
 * (at most `maxMs`), so that a server still spinning after its previous request does not share the machine with
 * the one measured next. Two windows, because on a loaded machine a spinning process can be descheduled for one.
 */
export async function untilIdle(pids: readonly number[], maxMs = 3_000): Promise<void> {
  const total = () => pids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
  const deadline = performance.now() + maxMs;
  let before = total();
  let quietWindows = 0;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = total();
    quietWindows = now - before <= 1 ? quietWindows + 1 : 0;
    if (quietWindows === 2) return;
    before = now;
  }
}

import { afterEach, describe, expect, it } from 'vitest';
import { supervise, type Harness } from './supervisor-harness.ts';

// Thermal state and CPU speed limit cross the process boundary: app → port → server/hosts/utility-process.ts →
// host-signals store → /metrics. After a crash, the restarted server gets the latest ones again.

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function gauge(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

async function pollGauge(url: string, name: string, expected: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  let last: number | undefined;
  while (Date.now() < deadline) {
    last = await gauge(url, name);
    if (last === expected) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${name} is ${last}, expected ${expected}`);
}

describe('host signals through the supervisor', () => {
  it('reach the server’s metrics and are replayed to a restarted server', async () => {
    const h = await supervise({}, { backoffInitialMs: 100 });
    harness = h;
    h.supervisor.start();
    await h.until('running', () => h.supervisor.status === 'running');
    expect(await gauge(h.supervisor.serverUrl!, 'lmx_thermal_state')).toBe(-1); // unknown until told

    h.supervisor.sendHostSignal({ type: 'thermal', state: 'critical' });
    h.supervisor.sendHostSignal({ type: 'speed-limit', percent: 55 });
    await pollGauge(h.supervisor.serverUrl!, 'lmx_thermal_state', 3);
    await pollGauge(h.supervisor.serverUrl!, 'lmx_cpu_speed_limit_percent', 55);

    process.kill(h.supervisor.pid!, 'SIGKILL');
    await h.until(
      'the restarted server',
      () => h.statuses.includes('backoff') && h.supervisor.status === 'running',
    );
    await pollGauge(h.supervisor.serverUrl!, 'lmx_thermal_state', 3);
    await pollGauge(h.supervisor.serverUrl!, 'lmx_cpu_speed_limit_percent', 55);
  }, 120_000);
});

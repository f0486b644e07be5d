import { afterEach, describe, expect, it } from 'vitest';
import { testModelPath } from '../fixtures/models.ts';
import { processExists, supervise, type Harness } from './supervisor-harness.ts';

// The real server runs as a child process through the utilityProcess adapter; crashes are real
// SIGKILLs. Backoff is shortened through options so the test takes seconds, not minutes.
const BACKOFF_MS = 100;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.dispose();
  harness = undefined;
});

async function readyz(url: string): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: (await response.json()) as { status: string; reason?: string } };
}

describe('server supervisor: crash → restart with backoff → crash loop → safe mode', () => {
  it('restarts a killed server with doubling delays, then starts it once in safe mode and alerts', async () => {
    const model = await testModelPath();
    harness = await supervise(
      { startupModels: [model] },
      { backoffInitialMs: BACKOFF_MS, backoffMaxMs: 10_000, crashLimit: 3, crashWindowMs: 60_000 },
    );
    const { supervisor } = harness;
    const h = harness;
    supervisor.start();

    const killed: number[] = [];
    for (let crash = 1; crash <= 3; crash++) {
      await h.until(`running before crash ${crash}`, () => supervisor.status === 'running');
      const url = supervisor.serverUrl!;
      if (crash === 1) {
        // The first run really serves: the startup model comes up.
        await h.until('the model to load', () =>
          h.messages.some((m) => m.type === 'activity' && m.loadedModels === 1),
        );
        expect((await readyz(url)).status).toBe(200);
      }
      const pid = supervisor.pid!;
      killed.push(pid);
      process.kill(pid, 'SIGKILL');
      await h.until(`exit after crash ${crash}`, () => h.exits.length === crash);
    }

    // Two restarts with exponential backoff, then no third backoff: the crash loop is detected.
    expect(h.restarts.map((r) => r.delayMs)).toEqual([BACKOFF_MS, 2 * BACKOFF_MS]);
    expect(h.exits.map((e) => [e.signal, e.expected])).toEqual([
      ['SIGKILL', false],
      ['SIGKILL', false],
      ['SIGKILL', false],
    ]);
    for (const pid of killed) expect(processExists(pid)).toBe(false);

    await h.until('safe mode', () => supervisor.status === 'safe-mode');
    expect(supervisor.safeMode).toBe(true);
    expect(supervisor.restarts).toBe(3);
    const crashLoop = h.alerts.find((alert) => alert.kind === 'crash_loop');
    expect(crashLoop?.severity).toBe('critical');
    expect(crashLoop?.message).toMatch(/crashed 3 times within 60 s/);
    // The last error line: nothing was logged before a SIGKILL, so the exit itself is quoted.
    expect(crashLoop?.message).toMatch(/Last error: the server process was killed by SIGKILL/);
    // The server honours safe mode: no model restored, readiness says why, and it says so itself.
    expect(await readyz(supervisor.serverUrl!)).toEqual({
      status: 503,
      body: { status: 'not_ready', reason: 'safe_mode' },
    });
    expect(h.alerts.some((alert) => alert.kind === 'safe_mode')).toBe(true);

    // Safe mode is a single attempt: another crash gives up instead of restarting.
    const safePid = supervisor.pid!;
    process.kill(safePid, 'SIGKILL');
    await h.until('failed', () => supervisor.status === 'failed');
    expect(h.restarts).toHaveLength(2);
    expect(h.alerts.filter((alert) => alert.kind === 'crash_loop').at(-1)?.message).toMatch(
      /even in safe mode/,
    );
  });
});

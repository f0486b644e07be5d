// A start that fails for a reason only the user can fix (a read-only data dir, a configuration the server
// refuses) ends the app's server process with its exit code; the supervisor then says why in one critical
// alert and does not restart it into a crash loop and safe mode. The real server, through the utilityProcess
// adapter.
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../shared/exit-codes.ts';
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.ts';
import { supervise, type Harness } from './supervisor-harness.ts';

let harness: Harness | undefined;
let disk: SmallDisk | undefined;
afterEach(async () => {
  await harness?.dispose();
  await disk?.unmount();
  harness = disk = undefined;
});

/** Starts the supervised server and waits until the supervisor gave up on it. */
async function startAndFail(config: Record<string, unknown>): Promise<Harness> {
  const h = await supervise(config, { backoffInitialMs: 50, crashLimit: 3 });
  h.supervisor.start();
  await h.until('the supervisor to give up', () => h.supervisor.status === 'failed');
  return h;
}

describe('server supervisor: a start the user must fix', () => {
  it('a read-only data dir: exit code 4, one alert naming it, no restart', async (context) => {
    const mounted = await mountSmallDisk('2m', true);
    if ('skipReason' in mounted) {
      console.log(`skipped: ${mounted.skipReason}`);
      return context.skip();
    }
    disk = mounted;
    harness = await startAndFail({ dataDir: mounted.dir });
    expect(harness.exits.map((exit) => exit.code)).toEqual([EXIT.dataDirUnwritable]);
    expect(harness.restarts).toEqual([]);
    expect(harness.alerts).toHaveLength(1);
    expect(harness.alerts[0]).toMatchObject({ kind: 'start_failed', severity: 'critical' });
    expect(harness.alerts[0]!.message).toMatch(
      /cannot start: lmx: The data directory .* cannot be written \(EROFS\)/,
    );
    expect(harness.supervisor.safeMode).toBe(false);
  });

  it('a configuration the server refuses: exit code 2, one alert naming it, no restart', async () => {
    harness = await startAndFail({ port: -1 });
    expect(harness.exits.map((exit) => exit.code)).toEqual([EXIT.config]);
    expect(harness.restarts).toEqual([]);
    expect(harness.alerts).toHaveLength(1);
    expect(harness.alerts[0]).toMatchObject({ kind: 'start_failed', severity: 'critical' });
    expect(harness.alerts[0]!.message).toMatch(/cannot start: lmx: Invalid configuration: port/);
    expect(harness.supervisor.lastError).toMatch(/Invalid configuration: port/);
  });
});

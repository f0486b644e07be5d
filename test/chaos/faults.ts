// kill -9 of a real `lmx serve` at chosen points, then a restart on the same data dir: every client must
// see an error or a closed stream within a second, and every acknowledged load must come back.

import { adminCall, adminHeavyEnv, fillModelsDir } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

/** Kills in quick succession would be a crash loop, and safe mode brings no model back by design. */
const faultEnv = { ...adminHeavyEnv, LMX_CRASH_LOOP_MAX_STARTS: '100000' };

export const FAULT_POINTS = ['mid-stream', 'mid-load', 'after-load-answer', 'mid-state-write'] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

export interface FaultReport {
  injected: number;
  survived: number;
  /** The longest a client waited, after the kill, for its error or closed stream. */
  worstClientNoticeMs: number;
  clients: number;
  lostAcknowledgedLoads: number;
  /** Restarts that found a crash loop, came up in safe mode and were let out of it. */
  safeModeExits: number;
  byPoint: Record<string, number>;
}

const ADMIN_KEY = 'lmx-chaos-admin-key-0123456789';

function streamingClientResponse(server: ServerProcess): Promise<Response> {
  return fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'alpha', prompt: 'Once', max_tokens: 200, stream: true, ignore_eos: true }),
  });
}

/** A client whose request is under way when the kill comes; resolves with when it noticed. */
function streamingClient(server: ServerProcess): Promise<number> {
  return streamingClientResponse(server)
    .then(async (response) => {
      const reader = response.body!.getReader();
      while (!(await reader.read()).done);
      return Date.now();
    })
    .catch(() => Date.now());
}

export async function killAtRandomPoints(options: { rounds: number; seed: number }): Promise<FaultReport> {
  const report: FaultReport = {
    injected: 0,
    survived: 0,
    worstClientNoticeMs: 0,
    clients: 0,
    lostAcknowledgedLoads: 0,
    safeModeExits: 0,
    byPoint: {},
  };
  const dataDir = await makeDataDir();
  await fillModelsDir(dataDir, { alpha: 'tiny', beta: 'tiny' });
  let random = options.seed >>> 0 || 1;
  const next = () => (random = (random * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32;
  let server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), faultEnv);
  const acknowledged = new Set<string>();
  try {
    if (
      (await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model: 'alpha' })).status ===
      200
    )
      acknowledged.add('alpha');
    // alpha's first inference, before any kill: a kill inside a file's first inference marks that file as
    // having crashed the server (model-trials.ts), which model-trials.test.ts covers; here it must come back.
    await (await streamingClientResponse(server)).text();
    for (let round = 0; round < options.rounds; round++) {
      const point = FAULT_POINTS[Math.floor(next() * FAULT_POINTS.length)]!;
      const clients: Promise<number>[] = [];
      if (point === 'mid-stream') {
        clients.push(streamingClient(server), streamingClient(server));
        await new Promise((resolve) => setTimeout(resolve, 50 + next() * 300));
      } else if (point === 'after-load-answer') {
        const model = acknowledged.has('beta') ? 'alpha' : 'beta';
        const answer = await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/models/load', { model });
        if (answer.status === 200) acknowledged.add(model);
      } else {
        // A load or an unload in flight: its state write may be cut anywhere.
        const unload = point === 'mid-state-write' && acknowledged.has('beta');
        const pending = adminCall(
          server.url,
          ADMIN_KEY,
          'POST',
          unload ? '/admin/models/unload' : '/admin/models/load',
          { model: 'beta' },
        );
        // An unload not yet answered may or may not have happened: beta is no longer an acknowledged load.
        if (unload) acknowledged.delete('beta');
        clients.push(pending.then(() => Date.now()).catch(() => Date.now()));
        await new Promise((resolve) => setTimeout(resolve, next() * 40));
      }
      const killedAt = Date.now();
      server.child.kill('SIGKILL');
      await server.exited;
      report.injected++;
      report.byPoint[point] = (report.byPoint[point] ?? 0) + 1;
      const noticed = await Promise.all(
        clients.map((client) =>
          Promise.race([
            client,
            new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 5_000)),
          ]),
        ),
      );
      report.clients += noticed.length;
      for (const at of noticed)
        report.worstClientNoticeMs = Math.max(report.worstClientNoticeMs, Math.max(0, at - killedAt));
      server = await spawnServer(smallServerArgs(dataDir, ADMIN_KEY), faultEnv);
      // Safe mode (crash-loop detection) is tested on its own and is kept out of reach here (faultEnv);
      // should it still engage, leaving it loads nothing by design, so what must come back is checked only
      // outside it.
      const state = (await adminCall(server.url, ADMIN_KEY, 'GET', '/admin/state')).body as {
        safeMode?: { active?: boolean };
      };
      if (state.safeMode?.active) {
        await adminCall(server.url, ADMIN_KEY, 'POST', '/admin/safe-mode/exit');
        report.safeModeExits++;
      }
      const loaded = await waitForLoaded(server, acknowledged);
      const missing = [...acknowledged].filter((id) => !loaded.includes(id));
      report.lostAcknowledgedLoads += missing.length;
      if (missing.length === 0) report.survived++;
      // Whatever the cut write left, the server's view is now the truth the next round builds on.
      for (const id of loaded) acknowledged.add(id);
      for (const id of [...acknowledged]) if (!loaded.includes(id)) acknowledged.delete(id);
    }
  } finally {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  return report;
}

/** The loaded models once recovery has settled (bounded wait for the expected ones). */
async function waitForLoaded(server: ServerProcess, expected: Set<string>): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const body = (await adminCall(server.url, ADMIN_KEY, 'GET', '/admin/models')).body as {
      data: { id: string; state: string }[];
    };
    const loaded = body.data.filter((entry) => entry.state === 'loaded').map((entry) => entry.id);
    if ([...expected].every((id) => loaded.includes(id)) || Date.now() > deadline) return loaded;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

import { mkdtemp } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DownloadManager } from '../../server/models/downloads.ts';
import { startTestServer } from '../helpers/server.ts';

/** A loopback port with nobody listening: connections to it are refused. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('a download from an origin that refuses connections', () => {
  it('fails with the reason once the origin has not answered for reachTimeoutMs', async () => {
    const modelsDir = await mkdtemp(path.join(tmpdir(), 'lmx-dl-'));
    const downloads = new DownloadManager(
      modelsDir,
      pino({ level: 'silent' }),
      {},
      {
        reachTimeoutMs: 300,
        allowPrivateNetworks: ['127.0.0.1'],
      },
    );
    const job = await downloads.start(`http://127.0.0.1:${await closedPort()}/model.gguf`);
    const ended = await downloads.wait(job.id);
    expect(ended.state).toBe('failed');
    expect(ended.error).toMatch(/could not reach .* \(connection refused or timed out\)/);
  });

  it('can be cancelled, and does not hold up the server stop', async () => {
    const lmx = await startTestServer({
      rateLimit: { exemptLoopback: true },
      downloads: { allowPrivateNetworks: ['127.0.0.1'] },
    });
    try {
      const uri = `http://127.0.0.1:${await closedPort()}/model.gguf`;
      const started = await lmx.admin('/admin/models/download', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uri }),
      });
      const { id } = (await started.json()) as { id: string };
      expect((await lmx.admin(`/admin/downloads/${id}`, { method: 'DELETE' })).status).toBe(204);
      const jobs = (await (await lmx.admin('/admin/downloads')).json()) as {
        data: { id: string; state: string }[];
      };
      expect(jobs.data.find((job) => job.id === id)?.state).toBe('cancelled');

      // A second one still running when the server stops.
      await lmx.admin('/admin/models/download', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ uri }),
      });
    } finally {
      await lmx.stop();
    }
    expect(lmx.server.lifecycle.phase).toBe('stopped');
  });
});

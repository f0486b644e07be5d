// Finding 19 of the hostile-test issue: a download killed with kill -9 started over. A real `lmx serve`
// child downloads from a slow loopback origin, is killed mid-download, restarts, and the same download
// fetches only what ipull's progress record does not mark complete.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { fastChunksRecorded, recordedChunks } from '../helpers/ipull-record.ts';
import { startRangeOrigin, type RangeOrigin } from '../helpers/range-origin.ts';
import { adminCall, adminHeavyEnv } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

const adminKey = 'downloads-kill-test-admin-key-0123';
let large: Buffer;
let origin: RangeOrigin;
let originUrl: string;
let slowFirstChunk = true;
/** Bytes sent per phase (1: before the kill, 2: after the restart), ranged requests only. */
let phase = 1;
const served = new Map<number, number>();
const children: ServerProcess[] = [];

async function serve(dataDir: string): Promise<ServerProcess> {
  const child = await spawnServer(smallServerArgs(dataDir, adminKey), {
    ...adminHeavyEnv,
    LMX_DOWNLOADS_ALLOW_PRIVATE_NETWORKS: '127.0.0.1',
    LMX_DOWNLOADS_RESERVE_BYTES: '0',
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  large = Buffer.concat([await readFile(await ensureGeneratedModel('tiny')), Buffer.alloc(11 * 1024 ** 2)]);
  origin = await startRangeOrigin({
    files: new Map([['large.gguf', large]]),
    trickles: (_name, start) => slowFirstChunk && start === 0,
    onServed: (_name, bytes, ranged) => void (ranged && served.set(phase, (served.get(phase) ?? 0) + bytes)),
  });
  originUrl = origin.url;
});
afterAll(async () => {
  for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  origin?.close();
});

describe('a download killed by kill -9', () => {
  it('resumes from the recorded progress after the restart', { timeout: 120_000 }, async () => {
    const dataDir = await makeDataDir();
    const first = await serve(dataDir);
    const started = await adminCall(first.url, adminKey, 'POST', '/admin/models/download', {
      uri: `${originUrl}/large.gguf`,
    });
    expect(started.status).toBe(202);
    const deadline = Date.now() + 30_000;
    let chunks: number[] | undefined;
    while (Date.now() < deadline) {
      chunks = await recordedChunks(path.join(dataDir, 'models'), 'large.gguf', large.length);
      if (fastChunksRecorded(chunks)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(fastChunksRecorded(chunks)).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;

    slowFirstChunk = false;
    phase = 2;
    const second = await serve(dataDir);
    // The restarted server resumes it on its own: no second POST.
    let job: { id: string; state: string; error: string | null; uri: string } | undefined;
    for (let i = 0; i < 600 && job?.state !== 'done' && job?.state !== 'failed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const { body } = await adminCall(second.url, adminKey, 'GET', '/admin/downloads');
      job = body.data.find((entry: { uri: string }) => entry.uri === `${originUrl}/large.gguf`);
    }
    if (!job) throw new Error('the interrupted download was not resumed after the restart');
    expect(job.state, job.error ?? undefined).toBe('done');
    // Only the unfinished first chunk came again.
    expect(served.get(2)).toBeGreaterThan(0);
    expect(served.get(2)).toBeLessThan(large.length / 2);
    const sha = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');
    expect(sha(await readFile(path.join(dataDir, 'models', 'large.gguf')))).toBe(sha(large));
  });
});

// Finding 19 of the hostile-test issue: a download killed with kill -9 started over. A real `lmx serve`
// child downloads from a slow loopback origin, is killed mid-download, restarts, and the same download
// fetches only what ipull's progress record does not mark complete.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { fastChunksRecorded, recordedChunks } from '../helpers/ipull-record.ts';
import { adminCall, adminHeavyEnv } from '../helpers/model-library.ts';
import { makeDataDir, smallServerArgs, spawnServer, type ServerProcess } from '../helpers/server.ts';

const adminKey = 'downloads-kill-test-admin-key-0123';
let large: Buffer;
let origin: http.Server;
let originUrl: string;
let slowFirstChunk = true;
/** Bytes sent per phase (1: before the kill, 2: after the restart). */
let phase = 1;
const served = new Map<number, number>();
const children: ServerProcess[] = [];

function startOrigin(): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const range = /bytes=(\d+)-(\d*)/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) : large.length - 1;
    response.writeHead(range ? 206 : 200, {
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${large.length}` } : {}),
    });
    const part = large.subarray(start, end + 1);
    const count = (bytes: number) => range && served.set(phase, (served.get(phase) ?? 0) + bytes);
    if (!(slowFirstChunk && start === 0)) {
      count(part.length);
      return void response.end(part);
    }
    // The first chunk trickles and never completes before the kill.
    let position = 0;
    const timer = setInterval(() => {
      if (position >= part.length - 65_536 || response.destroyed) return clearInterval(timer);
      const slice = part.subarray(position, position + 65_536);
      position += slice.length;
      count(slice.length);
      response.write(slice);
    }, 50);
    response.on('close', () => clearInterval(timer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

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
  origin = await startOrigin();
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL');
  await Promise.all(children.map((child) => child.exited));
  origin?.closeAllConnections();
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

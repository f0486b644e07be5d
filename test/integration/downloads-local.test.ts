import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { makeDataDir, runCli, startTestServer, type TestServer } from '../helpers/server.ts';
import { adminCall, recordEvents, type EventRecorder, adminHeavy } from '../helpers/model-library.ts';

/**
 * Downloads from a local HTTP server on loopback (never the internet): a small GGUF, a large one
 * (a GGUF padded past ipull's 5 MB chunks, so resume has whole chunks to keep) whose first chunk is
 * sent slowly, a 404 and a body that is not a GGUF. Range requests are honoured, as real hosts do.
 */
let small: Buffer;
let large: Buffer;
let origin: string;
let slowFirstChunk = true;
/** Bytes served are counted per phase, so a slow response still trickling from phase 1 is not counted in 2. */
let phase = 1;
let fastChunksDone = 0;
const served = new Map<string, number>();
const files = new Map<string, Buffer>();
let http404Server: http.Server;

function startOriginServer(): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const name = (request.url ?? '/').slice(1);
    const body = files.get(name);
    if (!body) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const range = /bytes=(\d+)-(\d*)/.exec(request.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range?.[2] ? Number(range[2]) : body.length - 1;
    response.writeHead(range ? 206 : 200, {
      'content-length': end - start + 1,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${body.length}` } : {}),
    });
    if (request.method === 'HEAD') return void response.end();
    const part = body.subarray(start, end + 1);
    const key = `${name}#${phase}`;
    const count = (bytes: number) => served.set(key, (served.get(key) ?? 0) + bytes);
    if (!(name === 'large.gguf' && slowFirstChunk && start === 0)) {
      // Only ranged requests count: the downloader probes with a plain GET that it drops after the headers.
      if (range) count(part.length);
      if (range && start > 0) response.once('finish', () => (fastChunksDone += 1));
      return void response.end(part);
    }
    // The first chunk trickles (bounded: 64 KB every 50 ms) until the client goes away.
    let position = 0;
    const timer = setInterval(() => {
      if (position >= part.length || response.destroyed) {
        clearInterval(timer);
        response.end();
        return;
      }
      const slice = part.subarray(position, position + 65_536);
      position += slice.length;
      count(slice.length);
      response.write(slice);
    }, 50);
    response.on('close', () => clearInterval(timer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let lmx: TestServer;
let events: EventRecorder;
let dataDir: string;
const admin = (method: string, pathname: string, body?: unknown) =>
  adminCall(lmx.url, lmx.adminKey, method, pathname, body);

async function waitForJob(id: string, done: (job: { state: string; bytesDone: number }) => boolean) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { body } = await admin('GET', '/admin/downloads');
    const job = body.data.find((entry: { id: string }) => entry.id === id);
    if (job && done(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`download ${id} did not reach the expected state`);
}

const modelIds = async () =>
  (await admin('GET', '/admin/models')).body.data.map((entry: { id: string }) => entry.id);
const stagingEntries = async () => readdir(path.join(dataDir, 'models', '.downloads')).catch(() => []);
const sha = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');

beforeAll(async () => {
  small = await readFile(await ensureGeneratedModel('tinyQ8'));
  large = Buffer.concat([await readFile(await ensureGeneratedModel('tiny')), Buffer.alloc(11 * 1024 ** 2)]);
  files.set('small.gguf', small);
  files.set('pulled.gguf', small);
  files.set('large.gguf', large);
  files.set('cancelled.gguf', large);
  files.set(
    'page.gguf',
    Buffer.from('<html><body>Sign in to download this file</body></html>\n'.repeat(100)),
  );
  http404Server = await startOriginServer();
  origin = `http://127.0.0.1:${(http404Server.address() as AddressInfo).port}`;
  dataDir = await makeDataDir();
  lmx = await startTestServer({ dataDir, contextSize: 256, parallel: 1, ...adminHeavy });
  events = await recordEvents(lmx.url, lmx.adminKey);
});
afterAll(async () => {
  events?.close();
  await lmx?.stop();
  http404Server?.close();
});

describe('downloads', () => {
  it('downloads a GGUF with progress events; the model then loads', async () => {
    const started = await admin('POST', '/admin/models/download', { uri: `${origin}/small.gguf` });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ uri: `${origin}/small.gguf`, state: 'running', error: null });
    const job = await waitForJob(started.body.id, (entry) => entry.state !== 'running');
    expect(job).toMatchObject({
      state: 'done',
      fileName: 'small.gguf',
      bytesDone: small.length,
      bytesTotal: small.length,
    });
    expect(job.finishedAt).not.toBeNull();
    await events.waitFor((type, data) => type === 'download' && data.id === job.id && data.state === 'done');
    expect(await modelIds()).toContain('small');
    expect((await admin('POST', '/admin/models/load', { model: 'small' })).status).toBe(200);
    expect(await stagingEntries()).toEqual([]);
  });

  it('fails a 404 with the HTTP status and leaves nothing behind', async () => {
    const started = await admin('POST', '/admin/models/download', { uri: `${origin}/missing.gguf` });
    const job = await waitForJob(started.body.id, (entry) => entry.state !== 'running');
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/HTTP 404/);
    expect(await modelIds()).not.toContain('missing');
    expect(await stagingEntries()).toEqual([]);
    await events.waitFor((type, data) => type === 'alert' && data.kind === 'download');
  });

  it('fails a body that is not a GGUF and leaves no partial model', async () => {
    const started = await admin('POST', '/admin/models/download', { uri: `${origin}/page.gguf` });
    const job = await waitForJob(started.body.id, (entry) => entry.state !== 'running');
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/not a GGUF/);
    expect(await modelIds()).not.toContain('page');
    expect(existsSync(path.join(dataDir, 'models', 'page.gguf'))).toBe(false);
    expect(await stagingEntries()).toEqual([]);
  });

  it('refuses a URI that is neither hf: nor http(s)', async () => {
    const refused = await admin('POST', '/admin/models/download', { uri: 'file:///etc/passwd' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_uri');
  });

  it('cancels a running download: no model, no partial file', async () => {
    const started = await admin('POST', '/admin/models/download', { uri: `${origin}/cancelled.gguf` });
    await waitForJob(started.body.id, (entry) => entry.bytesDone > 0);
    expect((await admin('DELETE', `/admin/downloads/${started.body.id}`)).status).toBe(204);
    const job = await waitForJob(started.body.id, (entry) => entry.state !== 'running');
    expect(job.state).toBe('cancelled');
    expect(await modelIds()).not.toContain('cancelled');
    expect(await stagingEntries()).toEqual([]);
    expect((await admin('DELETE', '/admin/downloads/no-such-job')).status).toBe(404);
  });

  it('resumes an interrupted download after a restart instead of starting over', async () => {
    const started = await admin('POST', '/admin/models/download', { uri: `${origin}/large.gguf` });
    // Every chunk but the slow first one completes (2 of 3 ranges); then the server goes away mid-download.
    await waitForJob(started.body.id, () => fastChunksDone >= 2);
    // ipull records finished chunks asynchronously; give it time (the slow chunk needs ~4 s more anyway).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    events.close();
    await lmx.stop();
    expect(await modelIds().catch(() => [])).toEqual([]);
    expect(existsSync(path.join(dataDir, 'models', 'large.gguf'))).toBe(false);
    expect((await stagingEntries()).length).toBe(1);

    slowFirstChunk = false;
    phase = 2;
    lmx = await startTestServer({ dataDir, contextSize: 256, parallel: 1, ...adminHeavy });
    events = await recordEvents(lmx.url, lmx.adminKey);
    expect(await modelIds()).not.toContain('large');
    const again = await admin('POST', '/admin/models/download', { uri: `${origin}/large.gguf` });
    expect(again.body.bytesDone).toBe(0);
    const job = await waitForJob(again.body.id, (entry) => entry.state !== 'running');
    expect(job.state).toBe('done');
    // Only the first 5 MB chunk was fetched again.
    expect(served.get('large.gguf#2')).toBeGreaterThan(0);
    expect(served.get('large.gguf#2')).toBeLessThan(large.length / 2);
    expect(sha(await readFile(path.join(dataDir, 'models', 'large.gguf')))).toBe(sha(large));
    expect(await modelIds()).toContain('large');
  });
});

describe('lmx pull', () => {
  it('downloads into the models dir from the terminal, and exits 1 with the reason on failure', async () => {
    const modelsDir = path.join(dataDir, 'pulled-models');
    const pulled = await runCli([
      'pull',
      `${origin}/pulled.gguf`,
      '--models-dir',
      modelsDir,
      '--data-dir',
      dataDir,
    ]);
    expect(pulled.stderr).not.toMatch(/lmx:/);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(/Downloaded pulled\.gguf/);
    expect(sha(await readFile(path.join(modelsDir, 'pulled.gguf')))).toBe(sha(small));

    const failed = await runCli([
      'pull',
      `${origin}/nothing.gguf`,
      '--models-dir',
      modelsDir,
      '--data-dir',
      dataDir,
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/HTTP 404/);
  });
});

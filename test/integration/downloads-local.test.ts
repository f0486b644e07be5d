import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { makeDataDir, runCli, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  CHUNK_COMPLETE,
  fastChunksRecorded,
  recordedChunks as recordedChunksIn,
} from '../helpers/ipull-record.ts';
import { startRangeOrigin, type RangeOrigin } from '../helpers/range-origin.ts';
import { adminCall, recordEvents, type EventRecorder, adminHeavy } from '../helpers/model-library.ts';

/**
 * Downloads from a local HTTP server on loopback (never the internet): a small GGUF, a large one
 * (a GGUF padded past ipull's 5 MB chunks, so resume has whole chunks to keep) whose first chunk is
 * sent slowly and never completely, a 404 and a body that is not a GGUF. Range requests are honoured, as
 * real hosts do.
 */
let small: Buffer;
let large: Buffer;
let origin: string;
let slowFirstChunk = true;
/** Bytes served are counted per phase, so a slow response still trickling from phase 1 is not counted in 2. */
let phase = 1;
const served = new Map<string, number>();
const files = new Map<string, Buffer>();
let originServer: RangeOrigin;

/** The origin is on loopback, which downloads may reach only when allowed. */
const loopbackOrigin = { downloads: { allowPrivateNetworks: ['127.0.0.1'] } };
const loopbackOriginEnv = { LMX_DOWNLOADS_ALLOW_PRIVATE_NETWORKS: '127.0.0.1' };

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

const recordedChunks = () => recordedChunksIn(path.join(dataDir, 'models'), 'large.gguf', large.length);

/** Polls `check` until it returns a value other than undefined; fails with `what` and the last state seen. */
async function waitUntil<T>(
  what: string,
  check: () => Promise<{ value: T | undefined; seen: unknown }>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { value, seen } = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`${what} within ${timeoutMs / 1000} s (last seen: ${JSON.stringify(seen ?? null)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

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
  originServer = await startRangeOrigin({
    files,
    trickles: (name, start) => name === 'large.gguf' && slowFirstChunk && start === 0,
    // Only ranged requests count: the downloader probes with a plain GET that it drops after the headers.
    onServed: (name, bytes, ranged) => {
      if (ranged) served.set(`${name}#${phase}`, (served.get(`${name}#${phase}`) ?? 0) + bytes);
    },
  });
  origin = originServer.url;
  dataDir = await makeDataDir();
  lmx = await startTestServer({ dataDir, contextSize: 256, parallel: 1, ...adminHeavy, ...loopbackOrigin });
  events = await recordEvents(lmx.url, lmx.adminKey);
});
afterAll(async () => {
  events?.close();
  await lmx?.stop();
  originServer?.close();
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

  it('fails a 404 without echoing the status, and leaves nothing behind', async () => {
    const started = await admin('POST', '/admin/models/download', { uri: `${origin}/missing.gguf` });
    const job = await waitForJob(started.body.id, (entry) => entry.state !== 'running');
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/the origin did not serve the file/);
    expect(job.error).not.toMatch(/404/);
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
    expect(started.status).toBe(202);
    // Every chunk but the slow first one (of 3) completes, and ipull records them as complete: that record,
    // not the bytes having been sent, is what a resume depends on.
    const chunks = await waitUntil(
      'ipull did not record the fast chunks of large.gguf as complete',
      async () => {
        const seen = await recordedChunks();
        return { value: fastChunksRecorded(seen) ? seen : undefined, seen };
      },
    );
    expect(chunks[0]).not.toBe(CHUNK_COMPLETE);
    // ipull counts a finished chunk as a whole 5 MB, so with the short last chunk done it reports every byte
    // while the first chunk is still arriving; closed in that state, it renames the progress file to the
    // final name, which the stop must undo. Stop in that state, so that path is always taken.
    await waitUntil(
      'the download did not report all its bytes while the first chunk was held back',
      async () => {
        const { body } = await admin('GET', '/admin/downloads');
        const job = body.data.find((entry: { id: string }) => entry.id === started.body.id);
        const reportsAll = job?.state === 'running' && job.bytesTotal > 0 && job.bytesDone >= job.bytesTotal;
        return { value: reportsAll ? job : undefined, seen: job };
      },
    );
    // Then the server goes away mid-download.
    events.close();
    await lmx.stop();
    expect(await modelIds().catch(() => [])).toEqual([]);
    expect(existsSync(path.join(dataDir, 'models', 'large.gguf'))).toBe(false);
    expect((await stagingEntries()).length).toBe(1);
    // The stop kept the record where the next attempt looks for it.
    expect(fastChunksRecorded(await recordedChunks())).toBe(true);

    slowFirstChunk = false;
    phase = 2;
    lmx = await startTestServer({ dataDir, contextSize: 256, parallel: 1, ...adminHeavy, ...loopbackOrigin });
    events = await recordEvents(lmx.url, lmx.adminKey);
    // The restarted server resumes it on its own.
    const resumed = await waitUntil('the interrupted download was not resumed', async () => {
      const { body } = await admin('GET', '/admin/downloads');
      const found = body.data.find((entry: { uri: string }) => entry.uri === `${origin}/large.gguf`);
      return { value: found, seen: body.data };
    });
    const job = await waitForJob(resumed.id, (entry) => entry.state !== 'running');
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
    const pulled = await runCli(
      ['pull', `${origin}/pulled.gguf`, '--models-dir', modelsDir, '--data-dir', dataDir],
      loopbackOriginEnv,
    );
    expect(pulled.stderr).not.toMatch(/lmx:/);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toMatch(/Downloaded pulled\.gguf/);
    expect(sha(await readFile(path.join(modelsDir, 'pulled.gguf')))).toBe(sha(small));

    const failed = await runCli(
      ['pull', `${origin}/nothing.gguf`, '--models-dir', modelsDir, '--data-dir', dataDir],
      loopbackOriginEnv,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/did not serve the file/);
  });
});

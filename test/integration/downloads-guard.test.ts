// Findings 7 and 17 of the hostile-test issue: downloads reached loopback (7 of 8 spellings) and a
// link-local metadata address, directly and through a redirect; errors echoed the origin's status; names an
// origin chose created files the API neither lists nor deletes; URL credentials showed in the job list.
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureGeneratedModel } from '../fixtures/models.ts';
import { adminCall, adminHeavy } from '../helpers/model-library.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

let model: Buffer;
/** Requests each origin received, by path. */
const received: string[] = [];

/** Serves the model at any path; /redirect?to=URL answers 302; /named?name=N names the file N. */
function startOrigin(host: string): Promise<http.Server> {
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://origin');
    received.push(`${host}${url.pathname}`);
    if (url.pathname === '/redirect') {
      return void response.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
    }
    if (url.pathname === '/missing.gguf') return void response.writeHead(404).end('not found');
    const name = url.searchParams.get('name');
    response.writeHead(200, {
      'content-length': model.length,
      'content-type': 'application/octet-stream',
      ...(name ? { 'content-disposition': `attachment; filename="${name}"` } : {}),
    });
    response.end(request.method === 'HEAD' ? undefined : model);
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve(server)));
}

let origin: http.Server;
let other: http.Server;
let port: number;
let otherPort: number;
let guarded: TestServer;
let allowing: TestServer;

async function download(lmx: TestServer, uri: string) {
  const started = await adminCall(lmx.url, lmx.adminKey, 'POST', '/admin/models/download', { uri });
  expect(started.status).toBe(202);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const { body } = await adminCall(lmx.url, lmx.adminKey, 'GET', '/admin/downloads');
    const job = body.data.find((entry: { id: string }) => entry.id === started.body.id);
    if (job.state !== 'running') return job;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`download of ${uri} did not end`);
}

const modelsDirEntries = async (lmx: TestServer) =>
  (await readdir(path.join(lmx.dataDir, 'models'))).filter((name) => name !== '.downloads');

beforeAll(async () => {
  model = await readFile(await ensureGeneratedModel('tinyQ8'));
  origin = await startOrigin('127.0.0.1');
  other = await startOrigin('127.0.0.2');
  port = (origin.address() as AddressInfo).port;
  otherPort = (other.address() as AddressInfo).port;
  guarded = await startTestServer({ ...adminHeavy });
  allowing = await startTestServer({ ...adminHeavy, downloads: { allowPrivateNetworks: ['127.0.0.1'] } });
});
afterAll(async () => {
  await guarded?.stop();
  await allowing?.stop();
  for (const server of [origin, other]) {
    server?.closeAllConnections();
    server?.close();
  }
});

describe('the SSRF guard of downloads', () => {
  it('refuses loopback in every spelling, unspecified and link-local addresses, without connecting', async () => {
    const targets = [
      `http://127.0.0.1:${port}/a.gguf`,
      `http://localhost:${port}/b.gguf`,
      `http://[::ffff:127.0.0.1]:${port}/c.gguf`,
      `http://2130706433:${port}/d.gguf`,
      `http://0x7f000001:${port}/e.gguf`,
      `http://127.1:${port}/f.gguf`,
      `http://0.0.0.0:${port}/g.gguf`,
      `http://[::1]:${port}/h.gguf`,
      'http://169.254.169.254/latest/meta-data.gguf',
    ];
    received.length = 0;
    for (const uri of targets) {
      const job = await download(guarded, uri);
      expect(job.state, uri).toBe('failed');
      expect(job.error, uri).toMatch(
        /refused to connect to .*: it is a (loopback|unspecified|link-local) address/,
      );
    }
    expect(received).toEqual([]);
    expect(await modelsDirEntries(guarded)).toEqual([]);
  });

  it('checks every redirect hop: an allowed origin cannot send the download elsewhere', async () => {
    received.length = 0;
    const toOther = await download(
      allowing,
      `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent(`http://127.0.0.2:${otherPort}/x.gguf`)}`,
    );
    expect(toOther.state).toBe('failed');
    expect(toOther.error).toMatch(/refused to connect to 127\.0\.0\.2: it is a loopback address/);
    const toMetadata = await download(
      allowing,
      `http://127.0.0.1:${port}/redirect?to=${encodeURIComponent('http://169.254.169.254/latest/m.gguf')}`,
    );
    expect(toMetadata.error).toMatch(/refused to connect to 169\.254\.169\.254: it is a link-local address/);
    expect(received.filter((entry) => entry.startsWith('127.0.0.2'))).toEqual([]);
    // What is allowed is downloaded.
    expect((await download(allowing, `http://127.0.0.1:${port}/allowed.gguf`)).state).toBe('done');
  });

  it("does not echo the origin's status", async () => {
    const job = await download(allowing, `http://127.0.0.1:${port}/missing.gguf`);
    expect(job.state).toBe('failed');
    expect(job.error).not.toMatch(/404/);
  });
});

describe('names chosen by the origin and credentials in the URI', () => {
  it('refuses a name the library would not list: hidden, no .gguf, a folder', async () => {
    for (const name of ['.hidden-cd.gguf', '!', 'evil-noext.sh']) {
      const job = await download(
        allowing,
        `http://127.0.0.1:${port}/named.gguf?name=${encodeURIComponent(name)}`,
      );
      expect(job.state, name).toBe('failed');
      expect(job.error, name).toMatch(/not a <name>\.gguf file the library lists/);
    }
    const listed = await adminCall(allowing.url, allowing.adminKey, 'GET', '/admin/models');
    const files = await modelsDirEntries(allowing);
    expect(files.every((file) => file.endsWith('.gguf') && !file.startsWith('.'))).toBe(true);
    expect(files.length).toBe(listed.body.data.length);
  });

  it('never shows URL credentials in GET /admin/downloads', async () => {
    const uri = `http://someone:hunter2-secret@127.0.0.1:${port}/creds.gguf?token=tok-secret`;
    const started = await adminCall(allowing.url, allowing.adminKey, 'POST', '/admin/models/download', {
      uri,
    });
    expect(started.status).toBe(202);
    const jobs = await adminCall(allowing.url, allowing.adminKey, 'GET', '/admin/downloads');
    for (const text of [JSON.stringify(started.body), JSON.stringify(jobs.body)]) {
      expect(text).toMatch(/creds\.gguf/);
      expect(text).not.toMatch(/hunter2|tok-secret|someone/);
    }
    await adminCall(allowing.url, allowing.adminKey, 'DELETE', `/admin/downloads/${started.body.id}`);
  });
});

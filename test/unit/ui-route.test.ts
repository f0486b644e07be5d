import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { installErrorHandling } from '../../server/api/error-handler.ts';
import { UI_CONTENT_SECURITY_POLICY, uiRoutes } from '../../server/api/ui.ts';

let app: FastifyInstance | undefined;
let bundleDir: string | undefined;

afterEach(async () => {
  await app?.close();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
  app = bundleDir = undefined;
});

async function appServing(dir: string): Promise<FastifyInstance> {
  app = Fastify();
  installErrorHandling(app);
  await app.register(uiRoutes, { bundleDir: dir });
  return app;
}

async function builtBundle(): Promise<string> {
  bundleDir = await mkdtemp(path.join(tmpdir(), 'lmx-ui-'));
  await mkdir(path.join(bundleDir, 'assets'));
  await writeFile(path.join(bundleDir, 'index.html'), '<!doctype html><title>LMX</title>');
  await writeFile(path.join(bundleDir, 'assets', 'index-abc123.js'), 'console.log(1)');
  await writeFile(path.join(bundleDir, 'assets', 'index-abc123.js.gz'), gzipSync('console.log(1)'));
  return bundleDir;
}

describe('/ui', () => {
  it('serves the built dashboard with a strict Content-Security-Policy', async () => {
    const server = await appServing(await builtBundle());
    const page = await server.inject({ url: '/ui/', headers: { 'accept-encoding': 'gzip, deflate, br' } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<title>LMX</title>');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toBe(UI_CONTENT_SECURITY_POLICY);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['cache-control']).toBe('no-cache');
  });

  it('caches hashed assets for good, sends precompressed copies, and redirects /ui to /ui/', async () => {
    const server = await appServing(await builtBundle());
    const asset = await server.inject('/ui/assets/index-abc123.js');
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    const compressed = await server.inject({
      url: '/ui/assets/index-abc123.js',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(compressed.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(compressed.rawPayload).toString()).toBe('console.log(1)');
    expect(compressed.headers['content-security-policy']).toBe(UI_CONTENT_SECURITY_POLICY);
    const bare = await server.inject('/ui');
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/ui/');
  });

  it('answers 503 with an OpenAI-shaped error naming the build command when the bundle is missing', async () => {
    const server = await appServing(path.join(tmpdir(), 'lmx-ui-never-built-here'));
    for (const url of ['/ui', '/ui/', '/ui/assets/x.js']) {
      const response = await server.inject(url);
      expect(response.statusCode).toBe(503);
      const body = response.json<{ error: { message: string; type: string; code: string; param: null } }>();
      expect(body.error.type).toBe('service_unavailable_error');
      expect(body.error.code).toBe('ui_not_built');
      expect(body.error.message).toContain('npm run build:ui');
      expect(body.error.param).toBeNull();
    }
  });
});

import { stat, readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listRoutes } from '../helpers/routes.ts';
import { testModelPath } from '../fixtures/models.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import { expectStoppedAtMaxTokens } from '../helpers/tokens.ts';

describe('the admin key', () => {
  let lmx: TestServer;
  beforeAll(async () => {
    lmx = await startTestServer({ rateLimit: { adminPerMinute: 10_000 } });
  });
  afterAll(async () => lmx?.stop());

  it('is generated on first start: lmx- + 32 random bytes base64url, stored with mode 0600', async () => {
    expect(lmx.adminKey).toMatch(/^lmx-[A-Za-z0-9_-]{43}$/);
    const file = path.join(lmx.dataDir, 'admin-key');
    expect((await readFile(file, 'utf8')).trim()).toBe(lmx.adminKey);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('guards every /admin route of the route table: none, a wrong or the right key', async () => {
    const adminRoutes = listRoutes(lmx.server.app).filter(
      (route) => route.url.startsWith('/admin') && route.method !== 'HEAD',
    );
    // The table is read, not hand-listed, so a new admin route cannot slip through unguarded.
    expect(adminRoutes.length).toBeGreaterThanOrEqual(3);
    expect(adminRoutes.map((route) => route.url)).toContain('/admin/health');
    for (const route of adminRoutes) {
      const url = `${lmx.url}${route.url.replace(/:[A-Za-z]+/g, 'no-such-thing')}`;
      const send = async (authorization?: string) => {
        const controller = new AbortController();
        const response = await fetch(url, {
          method: route.method,
          headers: {
            ...(authorization ? { authorization } : {}),
            ...(route.method === 'GET' || route.method === 'DELETE'
              ? {}
              : { 'content-type': 'application/json' }),
          },
          body: route.method === 'GET' || route.method === 'DELETE' ? undefined : '{}',
          signal: controller.signal,
        });
        controller.abort(); // the event feed never ends by itself
        return response.status;
      };
      expect(await send(), `${route.method} ${route.url} without a key`).toBe(401);
      expect(await send('Bearer lmx-not-the-key-at-all'), `${route.method} ${route.url} wrong key`).toBe(401);
      expect(
        await send(`Basic ${lmx.server.adminKey.current}`),
        `${route.method} ${route.url} not bearer`,
      ).toBe(401);
      if (route.url === '/admin/keys/rotate') continue; // exercised below
      expect(
        await send(`Bearer ${lmx.server.adminKey.current}`),
        `${route.method} ${route.url} right key`,
      ).not.toBe(401);
    }
  });

  it('answers 401 in OpenAI error shape', async () => {
    const response = await fetch(`${lmx.url}/admin/health`);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({
      type: 'authentication_error',
      code: 'invalid_admin_key',
      param: null,
    });
  });

  it('rotates: the old key stops working, the new one works and is stored', async () => {
    const old = lmx.server.adminKey.current;
    const response = await lmx.admin('/admin/keys/rotate', { method: 'POST' });
    const { adminKey } = (await response.json()) as { adminKey: string };
    expect(adminKey).toMatch(/^lmx-/);
    expect(adminKey).not.toBe(old);
    expect(
      (await fetch(`${lmx.url}/admin/health`, { headers: { authorization: `Bearer ${old}` } })).status,
    ).toBe(401);
    expect(
      (await fetch(`${lmx.url}/admin/health`, { headers: { authorization: `Bearer ${adminKey}` } })).status,
    ).toBe(200);
    expect((await readFile(path.join(lmx.dataDir, 'admin-key'), 'utf8')).trim()).toBe(adminKey);
  });

  it('comes from LMX_ADMIN_KEY / --admin-key (config adminKey) when given', async () => {
    const configured = await startTestServer({ adminKey: 'lmx-configured-key-0123456789' });
    try {
      const ok = await fetch(`${configured.url}/admin/health`, {
        headers: { authorization: 'Bearer lmx-configured-key-0123456789' },
      });
      expect(ok.status).toBe(200);
    } finally {
      await configured.stop();
    }
  });
});

describe('the optional API key on /v1', () => {
  let lmx: TestServer | undefined;
  afterEach(async () => {
    await lmx?.stop();
    lmx = undefined;
  });

  it('is off by default', async () => {
    lmx = await startTestServer();
    expect((await fetch(`${lmx.url}/v1/models`)).status).toBe(200);
  });

  it('when set, refuses requests without it with 401 in OpenAI shape and serves those with it', async () => {
    lmx = await startTestServer({ apiKey: 'sk-team-secret', startupModels: [await testModelPath()] });
    const anonymous = new OpenAI({ baseURL: `${lmx.url}/v1`, apiKey: 'wrong', maxRetries: 0 });
    const error = await anonymous.models.list().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const bare = await fetch(`${lmx.url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(bare.status).toBe(401);
    expect(((await bare.json()) as { error: Record<string, unknown> }).error.type).toBe(
      'authentication_error',
    );

    const keyed = new OpenAI({ baseURL: `${lmx.url}/v1`, apiKey: 'sk-team-secret', maxRetries: 0 });
    const model = (await keyed.models.list()).data[0]!.id;
    const completion = await keyed.chat.completions.create({
      model,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
      temperature: 0,
    });
    expectStoppedAtMaxTokens(completion.usage!.completion_tokens, 2);
    // The admin key opens /v1 too (the dashboard's "Try it").
    const admin = new OpenAI({
      baseURL: `${lmx.url}/v1`,
      apiKey: lmx.server.adminKey.current,
      maxRetries: 0,
    });
    expect((await admin.models.list()).data.length).toBeGreaterThan(0);
    // Health needs no key.
    expect((await fetch(`${lmx.url}/healthz`)).status).toBe(200);
  });
});

describe('CORS', () => {
  it('allows any origin on /v1 by default, and not on /admin', async () => {
    const lmx = await startTestServer();
    try {
      const v1 = await fetch(`${lmx.url}/v1/models`, { headers: { origin: 'http://example.test' } });
      expect(v1.headers.get('access-control-allow-origin')).toBe('*');
      const preflight = await fetch(`${lmx.url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' },
      });
      expect(preflight.status).toBe(204);
      const admin = await lmx.admin('/admin/health', { headers: { origin: 'http://example.test' } });
      expect(admin.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await lmx.stop();
    }
  });
});

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { unavailable } from '../errors.ts';

export const defaultUiBundleDir = path.resolve(import.meta.dirname, '../../dist/renderer');

/**
 * The dashboard's Content-Security-Policy: scripts, styles and connections only from this server, no
 * inline code, no framing. The bundle is built to need nothing more (see vite.config.ts).
 */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS = {
  'content-security-policy': UI_CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

export interface UiRoutesOptions {
  /** The built renderer (vite build output); defaults to dist/renderer. */
  bundleDir?: string;
}

/** Serves the React dashboard at /ui/ (the same bundle the menu-bar app shows). */
export const uiRoutes: FastifyPluginAsync<UiRoutesOptions> = async (app, options) => {
  const bundleDir = options.bundleDir ?? defaultUiBundleDir;
  app.addHook('onSend', async (_request, reply) => {
    void reply.headers(SECURITY_HEADERS);
  });
  // Someone who opens the server's address in a browser wants the dashboard.
  app.get('/', async (_request, reply) => reply.redirect('/ui/', 302));

  if (!existsSync(path.join(bundleDir, 'index.html'))) {
    const notBuilt = async () => {
      throw unavailable(
        'The dashboard is not built. Run `npm run build:ui`, then restart LMX.',
        'ui_not_built',
      );
    };
    app.get('/ui', notBuilt);
    app.get('/ui/*', notBuilt);
    return;
  }

  await app.register(fastifyStatic, {
    root: bundleDir,
    prefix: '/ui/',
    // Another plugin may serve static files too; this one needs no reply.sendFile.
    decorateReply: false,
    // index.html is served by the route below: @fastify/static answers 404 for a directory index
    // when preCompressed is on and the browser accepts compressed encodings.
    index: false,
    // The build writes .br and .gz copies (vite.config.ts); browsers that accept them get those.
    preCompressed: true,
    cacheControl: false,
    setHeaders: (reply, filePath) => {
      // Hashed asset names change with their content: cache them for good; index.html never.
      const hashed = filePath.includes(`${path.sep}assets${path.sep}`);
      void reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  app.get('/ui/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(await readFile(path.join(bundleDir, 'index.html'))),
  );
  // Relative asset URLs need the trailing slash.
  app.get('/ui', async (_request, reply) => reply.redirect('/ui/', 301));
};

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config/schema.ts';
import { buildApp } from './app.ts';
import { Engine } from './engine/engine.ts';
import { Lifecycle } from './state/lifecycle.ts';
import { AdminKeyHolder, loadOrCreateAdminKey } from './state/admin-key.ts';
import { mkdir } from 'node:fs/promises';

/**
 * One running LMX server: engine, HTTP app, lifecycle. Used by `lmx serve`, the Electron utility
 * process and the integration tests alike.
 */
export class LmxServer {
  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly engine: Engine,
    readonly app: FastifyInstance,
    readonly lifecycle: Lifecycle,
    readonly adminKey: AdminKeyHolder,
    /** The URL the server listens on, e.g. http://127.0.0.1:1235 */
    readonly url: string,
  ) {}

  static async start(config: Config, logger: Logger): Promise<LmxServer> {
    const lifecycle = new Lifecycle();
    await mkdir(config.dataDir, { recursive: true });
    const storedKey = await loadOrCreateAdminKey(config.dataDir, config.adminKey);
    if (storedKey.source !== 'configured')
      logger.info({ file: storedKey.file }, 'admin key is stored in this file');
    const adminKey = new AdminKeyHolder(storedKey.key, config.dataDir);
    const engine = await Engine.start(config, logger);
    const app = await buildApp({
      config,
      logger,
      lifecycle,
      models: {
        forInference: (id) => engine.forInference(id),
        listForClients: () =>
          engine.pool.list().map((model) => ({ id: model.id, createdMs: model.loadedAt })),
      },
      modelCounts: () => ({ loaded: engine.pool.list().length, loading: engine.pool.loadingCount }),
      adminKey,
    });
    const host = config.lan ? '0.0.0.0' : config.host;
    await app.listen({ host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const server = new LmxServer(
      config,
      logger,
      engine,
      app,
      lifecycle,
      adminKey,
      `http://${urlHost(host)}:${port}`,
    );
    lifecycle.phase = 'serving';
    server.#loadStartupModels();
    return server;
  }

  /** Models named at start load in the background while /readyz says `loading`. */
  #loadStartupModels(): void {
    if (this.config.startupModels.length === 0) return;
    this.lifecycle.restoring = true;
    void Promise.allSettled(
      this.config.startupModels.map((file) =>
        this.engine.loadFile(file).catch((error: unknown) => {
          this.logger.error({ err: error, file }, 'model failed to load at start');
          throw error;
        }),
      ),
    ).finally(() => {
      this.lifecycle.restoring = false;
    });
  }

  /** Stops accepting, lets in-flight requests finish, frees the models. */
  async stop(): Promise<void> {
    if (this.lifecycle.phase === 'stopped') return;
    this.lifecycle.phase = 'draining';
    await this.app.close();
    await this.engine.dispose();
    this.lifecycle.phase = 'stopped';
  }
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

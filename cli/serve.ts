import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError, loadConfig } from '../server/config/load.ts';
import { createLogger } from '../server/telemetry/logger.ts';
import { EXIT } from '../shared/exit-codes.ts';

interface ServeFlags {
  model?: string[];
  host?: string;
  port?: string;
  dataDir?: string;
  modelsDir?: string;
  parallel?: string;
  contextSize?: string;
  gpu?: string;
  threads?: string;
  adminKey?: string;
  adminKeyFile?: string;
  apiKey?: string;
  apiKeyFile?: string;
  lan?: boolean;
  logLevel?: string;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('Run the OpenAI-compatible server')
    .option('--model <path>', 'a GGUF model to load at start (repeatable)', collect, [])
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on; 0 picks a free port (default 1235)')
    .option('--lan', 'listen on all interfaces so other machines can connect')
    .option('--data-dir <dir>', 'data directory (env LMX_DATA_DIR)')
    .option('--models-dir <dir>', 'model library directory (default <data-dir>/models)')
    .option('--parallel <n>', 'sequences per model: concurrent requests batched together (default 4)')
    .option('--context-size <n>', 'context size per sequence, capped at the trained context (default 4096)')
    .addOption(
      new Option('--gpu <backend>', 'GPU backend').choices(['auto', 'metal', 'cuda', 'vulkan', 'off']),
    )
    .option('--threads <n>', 'decode threads; 0 = choose per backend (default 0)')
    .option(
      '--admin-key <key>',
      'admin API key; shown in the process list: prefer --admin-key-file or env LMX_ADMIN_KEY',
    )
    .option('--admin-key-file <file>', 'read the admin API key from this file (its first line)')
    .option(
      '--api-key <key>',
      'require this key on /v1; shown in the process list: prefer --api-key-file or env LMX_API_KEY',
    )
    .option('--api-key-file <file>', 'read the /v1 key from this file (its first line)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<void> {
  let config;
  try {
    config = loadConfig({ flags: { ...flagsToConfig(flags), ...keysFromFiles(flags) } });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`lmx: ${error.message}\n`);
    process.exit(EXIT.config);
  }
  const logger = createLogger({ level: config.logLevel, dataDir: config.dataDir, stderr: true });
  // Imported only now: a configuration error is reported without loading the inference engine.
  const { LmxServer } = await import('../server/server.ts');
  const { startFailureExitCode } = await import('../server/hosts/start-failure.ts');
  let server;
  try {
    server = await LmxServer.start(config, logger);
  } catch (error) {
    const code = startFailureExitCode(error);
    if (code === undefined) throw error;
    process.stderr.write(`lmx: ${(error as Error).message}\n`);
    process.exit(code);
  }
  process.stdout.write(`LMX listening on ${server.url}\n`);

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.stop().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** --admin-key-file and --api-key-file: secrets kept out of the process list. */
function keysFromFiles(flags: ServeFlags): Record<string, string> {
  const keys: Record<string, string> = {};
  const files = { adminKey: flags.adminKeyFile, apiKey: flags.apiKeyFile };
  for (const [key, file] of Object.entries(files)) {
    if (file === undefined) continue;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(key, `cannot be read: ${(error as Error).message}`, file);
    }
    keys[key] = text.split(/\r?\n/)[0]?.trim() ?? '';
  }
  return keys;
}

/** Command-line values, keyed like the config schema; numbers are converted, validation comes later. */
function flagsToConfig(flags: ServeFlags): Record<string, unknown> {
  return {
    startupModels: flags.model?.length ? flags.model : undefined,
    host: flags.host,
    port: numeric(flags.port),
    lan: flags.lan,
    dataDir: flags.dataDir,
    modelsDir: flags.modelsDir,
    parallel: numeric(flags.parallel),
    contextSize: numeric(flags.contextSize),
    gpu: flags.gpu,
    engine: flags.threads === undefined ? undefined : { threads: numeric(flags.threads) },
    adminKey: flags.adminKey,
    apiKey: flags.apiKey,
    logLevel: flags.logLevel,
  };
}

function numeric(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

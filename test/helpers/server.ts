import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import OpenAI from 'openai';
import pino from 'pino';
import { validateConfig } from '../../server/config/load.ts';
import { LmxServer, type ServerOverrides } from '../../server/server.ts';
import type { Logger } from 'pino';
import { lmxNodeFlags } from '../../cli/node-flags.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');

/** Settings every test server shares: loopback, a free port, CPU, one decode thread, quiet logs. */
export function testConfigLayer(dataDir: string): Record<string, unknown> {
  return {
    host: '127.0.0.1',
    port: 0,
    dataDir,
    modelsDir: path.join(dataDir, 'models'),
    gpu: 'off',
    engine: { threads: 1 },
    logLevel: 'silent',
    contextSize: 512,
    // A shared 2-core machine stalls now and then; only the shedding tests turn this on.
    shedding: { maxEventLoopDelayMs: 0 },
    // A probe process per first load costs seconds through tsx; spawned servers (smallServerArgs) keep it on.
    models: { probeFirstLoad: false },
  };
}

/** `lmx serve` flags of a small spawned server: a free loopback port, CPU, one thread, one 256-token sequence. */
export function smallServerArgs(dataDir: string, adminKey: string): string[] {
  return [
    '--data-dir',
    dataDir,
    '--port',
    '0',
    '--gpu',
    'off',
    '--threads',
    '1',
    '--context-size',
    '256',
    '--parallel',
    '1',
    '--admin-key',
    adminKey,
    '--log-level',
    'warn',
  ];
}

export async function makeDataDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'lmx-test-'));
}

export interface TestServer {
  server: LmxServer;
  url: string;
  adminKey: string;
  openai: OpenAI;
  dataDir: string;
  /** fetch against the server with the admin key. */
  admin(pathname: string, init?: RequestInit): Promise<Response>;
  stop(): Promise<void>;
}

/** The real server, in this process, listening on a loopback port. Waits until startup models are ready. */
export async function startTestServer(
  overrides: Record<string, unknown> = {},
  options: ServerOverrides & { logger?: Logger } = {},
): Promise<TestServer> {
  const dataDir = (overrides.dataDir as string | undefined) ?? (await makeDataDir());
  const config = validateConfig({ ...testConfigLayer(dataDir), ...overrides });
  const server = await LmxServer.start(config, options.logger ?? pino({ level: 'silent' }), options);
  if (config.startupModels.length > 0) await waitUntilReady(server.url);
  return {
    server,
    url: server.url,
    adminKey: server.adminKey.current,
    dataDir,
    openai: new OpenAI({ baseURL: `${server.url}/v1`, apiKey: config.apiKey ?? 'not-needed', maxRetries: 0 }),
    admin: (pathname, init = {}) =>
      fetch(`${server.url}${pathname}`, {
        ...init,
        headers: { authorization: `Bearer ${server.adminKey.current}`, ...init.headers },
      }),
    stop: async () => {
      await server.stop();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls /readyz (bounded) until it answers 200. */
export async function waitUntilReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return;
      last = await response.text();
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`server at ${url} not ready after ${timeoutMs} ms: ${last}`);
}

export interface ServerProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  url: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/**
 * `lmx <args>` as a child process, its output collected as it comes: `node <lmx's flags> bin/lmx.js`, or
 * with `shebang`, bin/lmx.js itself (as an installed `lmx` runs).
 */
function startLmx(args: string[], env: NodeJS.ProcessEnv, shebang = false) {
  const bin = path.join(repoRoot, 'bin/lmx.js');
  const [command, argv] = shebang ? [bin, args] : [process.execPath, [...lmxNodeFlags, bin, ...args]];
  const child = spawn(command, argv, {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  // 'close', not 'exit': by then all output has been read.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output, exited };
}

/** `lmx serve` as a child process; resolves once it prints its listening line. */
export async function spawnServer(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
  shebang = false,
): Promise<ServerProcess> {
  const { child, output, exited } = startLmx(['serve', ...args], env, shebang);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line after ${timeoutMs} ms:\n${output.stderr}`)),
      timeoutMs,
    );
    const check = () => {
      const match = /^LMX listening on (http:\/\/\S+)$/m.exec(output.stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output.stderr}`));
    });
  });
  return { child, url, stdout: () => output.stdout, stderr: () => output.stderr, exited };
}

/** Runs `lmx <args>` to completion. */
export async function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { output, exited } = startLmx(args, env);
  const code = await exited;
  return { code, ...output };
}

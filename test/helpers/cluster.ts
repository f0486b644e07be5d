import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import OpenAI from 'openai';
import { smallServerArgs, spawnServer, type ServerProcess } from './server.ts';

/** A free loopback port (the OS picks it; released for the caller to bind). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/**
 * One `lmx serve` node on a fixed port, restarted whenever it exits, as launchd's KeepAlive (or the
 * menu-bar app's supervisor) would: a rolling restart's SIGTERM and a kill -9 both come back. Its pid is
 * kept in a file, so a cluster file's restart command can signal whichever process runs now.
 */
export class SupervisedNode {
  current: ServerProcess | undefined;
  starts = 0;
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly dataDir: string,
    readonly adminKey: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pidFile(): string {
    return path.join(this.dataDir, 'node.pid');
  }

  /** Resolves once the first process listens. */
  async start(): Promise<void> {
    await this.#spawn();
    this.#running = this.#superviseLoop();
  }

  async #spawn(): Promise<ServerProcess> {
    const args = smallServerArgs(this.dataDir, this.adminKey);
    args[args.indexOf('--port') + 1] = String(this.port);
    const server = await spawnServer(args, this.env);
    this.current = server;
    this.starts++;
    await writeFile(this.pidFile, String(server.child.pid));
    return server;
  }

  async #superviseLoop(): Promise<void> {
    while (!this.#stopped && this.current) {
      await this.current.exited;
      if (this.#stopped) return;
      // The port may still be held for an instant by the dying process; retry a few times.
      for (let attempt = 0; attempt < 20 && !this.#stopped; attempt++) {
        try {
          await this.#spawn();
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.current?.child.kill(signal);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.current?.child.kill('SIGKILL');
    await this.current?.exited;
    await this.#running;
  }
}

/** A long-running tool (haproxy, prometheus) in the foreground, its output kept for failure messages. */
export function spawnTool(binary: string, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

export interface LoadRecord {
  startedAt: number;
  endedAt: number;
  /** The node that answered (HAProxy's X-LMX-Node), when headers arrived. */
  node: string | null;
  ok: boolean;
  error?: string;
}

/**
 * A steady, bounded load through the OpenAI SDK: `concurrency` clients, each sending one streaming
 * chat request after the other until stopped, `maxRequests` are sent, or the deadline passes.
 */
export class SteadyLoad {
  readonly records: LoadRecord[] = [];
  readonly inFlight = new Map<number, { startedAt: number; node: string | null }>();
  #stopped = false;
  #sent = 0;
  readonly #workers: Promise<void>[];

  constructor(
    baseUrl: string,
    private readonly options: { concurrency: number; maxRequests: number; deadlineMs: number; model: string },
  ) {
    const openai = new OpenAI({
      baseURL: `${baseUrl}/v1`,
      apiKey: 'not-needed',
      maxRetries: 0,
      timeout: 30_000,
    });
    const deadline = Date.now() + options.deadlineMs;
    this.#workers = Array.from({ length: options.concurrency }, () => this.#worker(openai, deadline));
  }

  async #worker(openai: OpenAI, deadline: number): Promise<void> {
    while (!this.#stopped && this.#sent < this.options.maxRequests && Date.now() < deadline) {
      const id = this.#sent++;
      const entry = { startedAt: Date.now(), node: null as string | null };
      this.inFlight.set(id, entry);
      try {
        const { data: stream, response } = await openai.chat.completions
          .create({
            model: this.options.model,
            messages: [{ role: 'user', content: `request ${id}` }],
            max_tokens: 16,
            stream: true,
          })
          .withResponse();
        entry.node = response.headers.get('x-lmx-node');
        let done = false;
        for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) done = true;
        if (!done) throw new Error('stream ended without a finish_reason');
        this.records.push({ ...entry, endedAt: Date.now(), ok: true });
      } catch (error) {
        this.records.push({ ...entry, endedAt: Date.now(), ok: false, error: String(error) });
      } finally {
        this.inFlight.delete(id);
      }
    }
  }

  failures(): LoadRecord[] {
    return this.records.filter((record) => !record.ok);
  }

  async stop(): Promise<LoadRecord[]> {
    this.#stopped = true;
    await Promise.all(this.#workers);
    return this.records;
  }
}

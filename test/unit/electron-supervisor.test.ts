import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MainToServer } from '../../shared/ipc-contract.ts';
import type { ServerProcessHandle } from '../../electron/main/server-process.ts';
import { TrustedPages } from '../../electron/main/security.ts';
import { ServerSupervisor, type SupervisorOptions } from '../../electron/main/supervisor.ts';

// The supervisor's policy (timers, counting, messages) with a scripted stand-in for the process.
// The real server through the child_process adapter is in test/integration/supervisor-*.test.ts.

class ScriptedProcess extends EventEmitter implements ServerProcessHandle {
  static next = 1000;
  readonly pid = ScriptedProcess.next++;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly received: MainToServer[] = [];
  killed = false;
  /** What the scripted server does when asked to drain. */
  onDrain: 'exit' | 'hang' = 'exit';

  postMessage(message: MainToServer): void {
    this.received.push(message);
    if (message.type === 'drain' && this.onDrain === 'exit') setTimeout(() => this.exit(0), 10);
  }
  kill(): boolean {
    this.killed = true;
    setTimeout(() => this.exit(143, 'SIGTERM'), 1);
    return true;
  }
  say(message: unknown): void {
    this.emit('message', message);
  }
  /** Comes up: says starting, listening, ready. */
  boot(reason?: string): void {
    this.say({ type: 'state', state: 'starting' });
    this.say({ type: 'listening', url: 'http://127.0.0.1:1' });
    this.say({ type: 'state', state: 'ready', reason });
  }
  exit(code: number, signal?: string): void {
    this.emit('exit', code, signal);
  }
}

let processes: ScriptedProcess[];
const logs: string[] = [];

function supervisor(options: Partial<SupervisorOptions> = {}) {
  processes = [];
  const instance = new ServerSupervisor(
    { modulePath: '/nowhere/utility-entry.mjs', env: {}, ...options },
    {
      fork: () => {
        const child = new ScriptedProcess();
        processes.push(child);
        return child;
      },
      initPayload: async () => ({ adminKey: 'lmx-secret-admin-key', config: { port: 0 } }),
      log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    },
  );
  const delays: number[] = [];
  instance.on('restart-scheduled', ({ delayMs }) => delays.push(delayMs));
  return { instance, delays, current: () => processes.at(-1)! };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ServerSupervisor', () => {
  it('sends init (secrets, crash-loop limits, restarts) only after the server says starting', async () => {
    const { instance, current } = supervisor({ crashLimit: 3, crashWindowMs: 60_000 });
    instance.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(current().received).toEqual([]);
    current().say({ type: 'state', state: 'starting' });
    await vi.advanceTimersByTimeAsync(0);
    expect(current().received).toEqual([
      {
        type: 'init',
        adminKey: 'lmx-secret-admin-key',
        config: { crashLoop: { maxStarts: 4, windowMs: 60_000 }, port: 0 },
        restarts: 0,
      },
    ]);
  });

  it('doubles the restart delay up to the cap and resets it after a stable run', async () => {
    const { instance, delays, current } = supervisor({
      backoffInitialMs: 1000,
      backoffMaxMs: 4000,
      crashLimit: 100,
      stableAfterMs: 60_000,
    });
    instance.start();
    for (let crash = 0; crash < 5; crash++) {
      current().boot();
      current().exit(1);
      expect(instance.status).toBe('backoff');
      await vi.advanceTimersByTimeAsync(delays.at(-1)!);
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000, 4000]);
    current().boot();
    await vi.advanceTimersByTimeAsync(61_000);
    current().exit(1);
    expect(delays.at(-1)).toBe(1000);
    expect(instance.restarts).toBe(5);
  });

  it('counts only the crashes within the window towards a crash loop', async () => {
    const { instance, delays, current } = supervisor({
      backoffInitialMs: 10,
      crashLimit: 3,
      crashWindowMs: 60_000,
    });
    instance.start();
    current().boot();
    current().exit(1);
    await vi.advanceTimersByTimeAsync(30_000);
    current().boot();
    current().exit(1);
    await vi.advanceTimersByTimeAsync(40_000); // the first crash is now outside the window
    current().boot();
    current().exit(1);
    expect(delays).toHaveLength(3);
    expect(instance.status).toBe('backoff');
  });

  it('after the crash limit starts safe mode once, with the last error line, then gives up', async () => {
    const { instance, current } = supervisor({ backoffInitialMs: 10, crashLimit: 3 });
    const alerts: string[] = [];
    instance.on('alert', (alert) => alerts.push(alert.message));
    instance.start();
    for (let crash = 0; crash < 3; crash++) {
      current().boot();
      current().stderr.write(
        '{"level":50,"msg":"model failed to load at start","err":{"message":"out of memory"}}\n',
      );
      current().exit(1);
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(processes).toHaveLength(4);
    current().say({ type: 'state', state: 'starting' });
    await vi.advanceTimersByTimeAsync(0);
    expect(current().received[0]).toMatchObject({ type: 'init', safeMode: true, restarts: 3 });
    current().say({ type: 'state', state: 'ready', reason: 'safe_mode' });
    expect(instance.status).toBe('safe-mode');
    expect(alerts[0]).toMatch(/Last error: model failed to load at start: out of memory/);

    current().exit(1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(instance.status).toBe('failed');
    expect(processes).toHaveLength(4);
  });

  it('shows safe mode the server chose by itself', () => {
    const { instance, current } = supervisor();
    instance.start();
    current().boot('safe_mode');
    expect(instance.status).toBe('safe-mode');
    expect(instance.safeMode).toBe(true);
  });

  it('quit drains and resolves when the server exits, without restarting it', async () => {
    const { instance, current } = supervisor();
    instance.start();
    current().boot();
    const done = instance.quit();
    expect(instance.status).toBe('draining');
    expect(current().received.at(-1)).toEqual({ type: 'drain' });
    await vi.advanceTimersByTimeAsync(10);
    await done;
    expect(instance.status).toBe('stopped');
    expect(current().killed).toBe(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(processes).toHaveLength(1);
  });

  it('kills a server that does not drain within the timeout', async () => {
    const { instance, current } = supervisor({ drainTimeoutMs: 60_000 });
    instance.start();
    current().boot();
    current().onDrain = 'hang';
    const done = instance.quit();
    await vi.advanceTimersByTimeAsync(59_000);
    expect(current().killed).toBe(false);
    await vi.advanceTimersByTimeAsync(1_001);
    await done;
    expect(current().killed).toBe(true);
    expect(instance.status).toBe('stopped');
  });

  it('a second quit forces the exit at once', async () => {
    const { instance, current } = supervisor();
    instance.start();
    current().boot();
    current().onDrain = 'hang';
    const first = instance.quit();
    const second = instance.quit();
    expect(current().killed).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await Promise.all([first, second]);
    expect(instance.status).toBe('stopped');
  });

  it('quit during a backoff cancels the pending restart', async () => {
    const { instance, current } = supervisor({ backoffInitialMs: 1000 });
    instance.start();
    current().boot();
    current().exit(1);
    await instance.quit();
    await vi.advanceTimersByTimeAsync(5000);
    expect(processes).toHaveLength(1);
    expect(instance.status).toBe('stopped');
  });

  it('forwards host signals and replays the latest ones to a restarted server', async () => {
    const { instance, current } = supervisor({ backoffInitialMs: 10 });
    instance.start();
    instance.sendHostSignal({ type: 'thermal', state: 'fair' }); // before the server listens: kept
    current().boot();
    await vi.advanceTimersByTimeAsync(0);
    instance.sendHostSignal({ type: 'thermal', state: 'serious' });
    instance.sendHostSignal({ type: 'speed-limit', percent: 70 });
    instance.sendHostSignal({ type: 'power', event: 'resume' });
    expect(current().received.slice(1)).toEqual([
      { type: 'thermal', state: 'fair' },
      { type: 'thermal', state: 'serious' },
      { type: 'speed-limit', percent: 70 },
      { type: 'power', event: 'resume' },
    ]);
    current().exit(1);
    await vi.advanceTimersByTimeAsync(10);
    current().say({ type: 'state', state: 'starting' });
    await vi.advanceTimersByTimeAsync(0);
    expect(current().received.slice(1)).toEqual([
      { type: 'thermal', state: 'serious' },
      { type: 'speed-limit', percent: 70 },
    ]);
  });

  it('ignores malformed messages from the server', () => {
    const { instance, current } = supervisor();
    const seen: unknown[] = [];
    instance.on('message', (message) => seen.push(message));
    instance.start();
    for (const junk of [
      null,
      'ready',
      { type: 'state', state: 'exploded' },
      { type: 'listening', url: 'file:///' },
    ])
      current().say(junk);
    expect(seen).toEqual([]);
    expect(instance.status).toBe('starting');
    expect(logs.at(-1)).toMatch(/malformed/);
  });

  it.each([
    ['http://0.0.0.0:4321', 'http://127.0.0.1:4321'],
    ['http://[::]:4321', 'http://[::1]:4321'],
    ['http://127.0.0.1:4321', 'http://127.0.0.1:4321'],
  ])('a server announcing %s is reached at %s, which the window trusts', (announced, local) => {
    const { instance, current } = supervisor();
    const logsBefore = logs.length;
    // As the composition root wires it: the window's trusted origin follows the listening message.
    const pages = new TrustedPages('file:///app/starting.html');
    instance.on('message', (message) => {
      if (message.type === 'listening') pages.setServerOrigin(instance.serverUrl);
    });
    instance.start();
    current().say({ type: 'state', state: 'starting' });
    current().say({ type: 'listening', url: announced });
    current().say({ type: 'state', state: 'ready' });
    expect(instance.serverUrl).toBe(local);
    expect(instance.status).toBe('running');
    expect(pages.serverOrigin).toBe(local);
    expect(pages.allowsIpcFrom(`${local}/ui/`, true)).toBe(true);
    expect(logs.slice(logsBefore).filter((line) => /listener failed/.test(line))).toEqual([]);
    // Shared on the network: another machine's address is this Mac's, never the wildcard.
    expect(instance.networkUrl ?? '').not.toMatch(/0\.0\.0\.0|\[::\]/);
  });
});

/**
 * The first load of a model file, tried in a short-lived child process (model-probe-child.ts) before the
 * server loads it itself. llama.cpp aborts the whole process on some files that pass every check LMX can make
 * in JavaScript (gguf-validate.ts); in the child, such a file kills only the child, and the server refuses the
 * file instead of dying. The child loads it with the server's engine settings (backend, GPU layers, the thread
 * policy's count), creates a small context and evaluates a few tokens.
 *
 * Runs under plain Node (`lmx serve`) and inside Electron's utility process, where process.execPath is
 * Electron: ELECTRON_RUN_AS_NODE makes the forked binary a plain Node. The compiled server finds the probe's
 * bundle beside its own (build/compile.mjs builds `model-probe.js` next to every server entry); the sources
 * run it through tsx's loader.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { GpuChoice } from '../config/schema.ts';
import type { ModelKind } from '../../shared/admin-api.ts';

// Defined by the build (build/compile.mjs); absent when the sources run through tsx.
declare const LMX_COMPILED: boolean | undefined;

export interface ProbeRequest {
  path: string;
  gpu: GpuChoice;
  gpuLayers?: number;
  threads: number;
  batchThreads?: number;
  batchSize?: number;
  kind: ModelKind;
}

/** The child's reports, each sent before the phase starts (or at the end). */
export type ProbeMessage = { phase: ProbePhase } | { done: true } | { error: string };
export type ProbePhase = 'load' | 'inference';

export type ProbeVerdict =
  /** The child finished, or stopped on an error thrown in JavaScript (the server's own load reports it). */
  | { survived: true; error?: string }
  /** The child died in native code, or hung: the file must not be loaded into the server. */
  | { survived: false; phase: ProbePhase; how: string }
  /** The probe itself could not run (nothing is known about the file). */
  | { survived: undefined; how: string };

/** How much of the child's stderr the server's log keeps (its end: where an abort says why). */
const stderrTailBytes = 8 * 1024;

function probeEntry(): { module: string; execArgv: string[] } {
  if (typeof LMX_COMPILED !== 'undefined' && LMX_COMPILED) {
    return { module: fileURLToPath(import.meta.resolve('./model-probe.js')), execArgv: [] };
  }
  const tsx = import.meta.resolve('tsx');
  return { module: path.join(import.meta.dirname, 'model-probe-child.ts'), execArgv: ['--import', tsx] };
}

/**
 * `signal` kills the probe (the server is stopping); its verdict then says nothing about the file. `logger`
 * names the model (the verdict, the duration and the end of the child's stderr are logged).
 */
export function probeModelFile(
  request: ProbeRequest,
  { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
  logger: Logger,
): Promise<ProbeVerdict> {
  const { module, execArgv } = probeEntry();
  const env = { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}) };
  const child = fork(module, [JSON.stringify(request)], {
    execArgv,
    env,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = Buffer.alloc(0);
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = Buffer.concat([stderr, chunk]);
    if (stderr.length > stderrTailBytes) stderr = stderr.subarray(stderr.length - stderrTailBytes);
  });
  let phase: ProbePhase | undefined;
  let done = false;
  let error: string | undefined;
  child.on('message', (message: ProbeMessage) => {
    if ('phase' in message) phase = message.phase;
    else if ('done' in message) done = true;
    else error = message.error;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, timeoutMs);
  const stop = () => child.kill('SIGKILL');
  signal?.addEventListener('abort', stop, { once: true });
  const startedAt = performance.now();
  let settled = false;
  return new Promise((resolve) => {
    const settle = (verdict: ProbeVerdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      const log = {
        verdict,
        probeMs: Math.round(performance.now() - startedAt),
        stderr: stderr.toString('utf8').trim() || undefined,
      };
      if (verdict.survived === true) logger.info(log, 'model probe passed');
      else logger.error(log, 'model probe failed');
      resolve(verdict);
    };
    child.on('error', (cause) => settle({ survived: undefined, how: cause.message }));
    child.on('exit', (code, exitSignal) => {
      const how = timedOut
        ? `timed out after ${Math.round(timeoutMs / 1000)} s`
        : (exitSignal ?? `exit code ${code}`);
      if (signal?.aborted) settle({ survived: undefined, how: 'stopped: the server is stopping' });
      else if (!timedOut && code === 0 && (done || error !== undefined)) settle({ survived: true, error });
      else if (phase === undefined) settle({ survived: undefined, how: `the probe did not start (${how})` });
      else settle({ survived: false, phase, how });
    });
  });
}

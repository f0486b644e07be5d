import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { createDownloader, type ModelDownloader } from '../engine/downloader.ts';
import { assertGgufFile } from '../engine/gguf.ts';
import { diskSpace } from '../telemetry/disk-health.ts';
import { DownloadGuard } from './download-guard.ts';
import {
  DownloadConflictError,
  DownloadNotFoundError,
  DownloadRefusedError,
  DownloadSpaceError,
} from './errors.ts';
import type { DownloadJob } from '../../shared/admin-api.ts';

/** Hidden (never scanned) folder of the models dir where downloads are staged until complete and valid. */
export const STAGING_DIR = '.downloads';
/** In each staging folder: the URI being downloaded, so a restart (after a stop or a crash) resumes it. */
const SOURCE_FILE = 'lmx-source.json';

export interface DownloadCallbacks {
  /** Progress and every state change (throttled while running). */
  onUpdate?: (job: DownloadJob) => void;
  /** A model arrived in the library. */
  onModelAdded?: (file: string) => void;
  /** A download failed or stopped for want of disk space or permission. */
  onDiskProblem?: (problem: string) => void;
}

export interface DownloadSettings {
  /** How long the file's origin may take to answer at all (the downloader retries on its own meanwhile). */
  reachTimeoutMs?: number;
  /** Restricted addresses downloads may connect to anyway (see DownloadGuard). */
  allowPrivateNetworks?: readonly string[];
  /** Free space to leave on the models disk. */
  reserveBytes?: number;
}

/** How often a running download checks the free space it leaves. */
const SPACE_CHECK_INTERVAL_MS = 250;

interface RunningJob {
  job: DownloadJob;
  /** The URI as given (credentials included); `job.uri` is what may be shown. */
  uri: string;
  controller: AbortController;
  finished: Promise<void>;
}

/**
 * Model downloads with node-llama-cpp's downloader (ipull: parallel connections, resumable). Each URI
 * is staged in <models>/.downloads/<hash of the uri>/, so an interrupted download resumes from its
 * partial file next time, and a model appears in the library only once it is complete and reads as a
 * GGUF; a failed or cancelled download leaves nothing behind in the library.
 */
export class DownloadManager {
  readonly #jobs = new Map<string, RunningJob>();
  readonly #guard: DownloadGuard;
  private readonly reachTimeoutMs: number;
  private readonly reserveBytes: number;

  constructor(
    readonly modelsDir: string,
    private readonly logger: Logger,
    private readonly callbacks: DownloadCallbacks = {},
    settings: DownloadSettings = {},
  ) {
    this.reachTimeoutMs = settings.reachTimeoutMs ?? 60_000;
    this.reserveBytes = settings.reserveBytes ?? 0;
    this.#guard = new DownloadGuard(settings.allowPrivateNetworks ?? []);
  }

  list(): DownloadJob[] {
    return [...this.#jobs.values()].map((entry) => ({ ...entry.job }));
  }

  get(id: string): DownloadJob | undefined {
    const entry = this.#jobs.get(id);
    return entry && { ...entry.job };
  }

  /** Starts a download; returns at once with the job (state `running`). Refused below the free-space reserve. */
  async start(uri: string): Promise<DownloadJob> {
    const trimmed = uri.trim();
    if (!/^(hf:|huggingface:|https?:\/\/)/i.test(trimmed)) {
      throw new DownloadRefusedError(
        "The uri must be 'hf:owner/repo/file.gguf', 'hf:owner/repo:quant' or an http(s):// URL.",
      );
    }
    for (const entry of this.#jobs.values()) {
      if (entry.uri === trimmed && entry.job.state === 'running') {
        throw new DownloadConflictError(entry.job.id);
      }
    }
    const free = await this.#freeBytes();
    if (free !== undefined && free < this.reserveBytes) {
      const problem = `only ${megabytes(free)} free in ${this.modelsDir}, below downloads.reserveBytes (${megabytes(this.reserveBytes)})`;
      this.callbacks.onDiskProblem?.(`a download was refused: ${problem}`);
      throw new DownloadSpaceError(`Not enough disk space to download: ${problem}.`);
    }
    const shown = redactUri(trimmed);
    const job: DownloadJob = {
      id: randomUUID(),
      uri: shown,
      fileName: guessFileName(shown),
      bytesDone: 0,
      bytesTotal: null,
      speedBytesPerSecond: 0,
      state: 'running',
      error: null,
      startedAt: new Date().toISOString(),
      finishedAt: null,
    };
    const controller = new AbortController();
    const entry: RunningJob = { job, uri: trimmed, controller, finished: Promise.resolve() };
    entry.finished = this.#run(entry);
    this.#jobs.set(job.id, entry);
    this.callbacks.onUpdate?.({ ...job });
    return { ...job };
  }

  /** Cancels a running job (its partial file is deleted) or forgets a finished one. */
  async cancel(id: string): Promise<void> {
    const entry = this.#jobs.get(id);
    if (!entry) throw new DownloadNotFoundError(id);
    if (entry.job.state === 'running') {
      entry.controller.abort(new Error('cancelled'));
      await entry.finished;
    } else {
      this.#jobs.delete(id);
    }
  }

  /** Resolves when the job has ended (for the CLI and tests). */
  async wait(id: string): Promise<DownloadJob> {
    const entry = this.#jobs.get(id);
    if (!entry) throw new DownloadNotFoundError(id);
    await entry.finished;
    return { ...entry.job };
  }

  /** Stops every running download, keeping partial files so the next start resumes them. */
  async dispose(): Promise<void> {
    const running = [...this.#jobs.values()].filter((entry) => entry.job.state === 'running');
    for (const entry of running) entry.controller.abort(new Error('server stopping'));
    await Promise.allSettled(running.map((entry) => entry.finished));
    await this.#guard.close();
  }

  /**
   * Resumes the downloads a stop or a crash (kill -9) interrupted: each staging folder names its URI, and
   * ipull's progress record in it says which chunks are already there.
   */
  async resumeInterrupted(): Promise<void> {
    const staging = path.join(this.modelsDir, STAGING_DIR);
    for (const entry of await readdir(staging).catch(() => [])) {
      const source = await readFile(path.join(staging, entry, SOURCE_FILE), 'utf8').catch(() => undefined);
      const uri = source && (JSON.parse(source) as { uri?: unknown }).uri;
      if (typeof uri !== 'string') continue;
      await this.start(uri).then(
        (job) => this.logger.info({ uri: job.uri }, 'resuming an interrupted download'),
        (error: unknown) =>
          this.logger.warn({ err: error, uri: redactUri(uri) }, 'interrupted download not resumed'),
      );
    }
  }

  /** Free bytes of the models disk (of its nearest existing folder); undefined if it cannot be read. */
  async #freeBytes(): Promise<number | undefined> {
    for (let dir = this.modelsDir; ; dir = path.dirname(dir)) {
      const space = await diskSpace(dir).catch(() => undefined);
      if (space) return space.freeBytes;
      if (path.dirname(dir) === dir) return undefined;
    }
  }

  async #run(entry: RunningJob): Promise<void> {
    const { job, controller } = entry;
    const staging = path.join(
      this.modelsDir,
      STAGING_DIR,
      createHash('sha256').update(entry.uri).digest('hex').slice(0, 16),
    );
    // A refused connection or a disk nearly full ends the download at once, as a failure with that reason.
    const fail = (problem: string) => {
      if (!controller.signal.aborted) controller.abort(new DownloadProblem(problem));
    };
    let spaceWatch: NodeJS.Timeout | undefined;
    /** ipull's close of this download; files in staging may be touched (renamed) until it is over. */
    let closing: Promise<unknown> = Promise.resolve();
    let downloader: ModelDownloader | undefined;
    let lastUpdate = 0;
    const update = (force = false) => {
      const now = Date.now();
      if (!force && now - lastUpdate < 250) return;
      lastUpdate = now;
      this.callbacks.onUpdate?.({ ...job });
    };
    try {
      await mkdir(staging, { recursive: true });
      // Mode 0600: the URI may hold credentials.
      await writeFile(path.join(staging, SOURCE_FILE), JSON.stringify({ uri: entry.uri }), { mode: 0o600 });
      // The downloader keeps retrying an origin that refuses connections: bound that, and let a cancel or
      // a server stop interrupt it rather than wait for it.
      const guarded = <T>(work: () => Promise<T>) =>
        this.#guard.run((refusal) => fail(`the download was ${refusal.message}`), work);
      downloader = await untilAbortedOrLate(
        controller.signal,
        this.reachTimeoutMs,
        `could not reach ${job.uri} within ${Math.round(this.reachTimeoutMs / 1000)} s ` +
          '(connection refused or timed out)',
        guarded(() =>
          createDownloader({
            modelUri: entry.uri,
            dirPath: staging,
            onProgress: (status) => {
              job.bytesDone = status.downloadedSize;
              job.bytesTotal = status.totalSize > 0 ? status.totalSize : null;
              job.speedBytesPerSecond = Math.max(0, Math.round(status.averageSpeed || 0));
              update();
            },
          }),
        ),
      );
      for (const file of downloader.filesInfo) assertListableName(file.fileName);
      job.fileName = downloader.entrypointFilename;
      job.bytesTotal = downloader.totalSize > 0 ? downloader.totalSize : null;
      job.bytesDone = downloader.downloadedSize;
      update(true);
      const targets = downloader.filesInfo.map((file) => path.join(this.modelsDir, file.fileName));
      for (const target of targets) {
        if (await exists(target))
          throw new DownloadProblem(`${path.basename(target)} is already in the models directory`);
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      await this.#assertRoomFor(downloader.totalSize - downloader.downloadedSize);
      spaceWatch = setInterval(() => {
        void this.#freeBytes().then((free) => {
          if (free !== undefined && free < this.reserveBytes)
            fail(`stopped with ${megabytes(free)} free, to keep downloads.reserveBytes free on the disk`);
        });
      }, SPACE_CHECK_INTERVAL_MS);
      // The abort closes ipull here, and the close is awaited before staging is touched: node-llama-cpp's own
      // signal handling would close it without waiting, and its rename of the progress file could then come
      // after the staging folder was removed (an unhandled rejection).
      const active = downloader;
      const close = () => {
        const resumable = isStop(controller.signal.reason);
        closing = active.cancel({ deleteTempFile: !resumable }).catch(() => undefined);
      };
      controller.signal.addEventListener('abort', close, { once: true });
      try {
        await guarded(() => active.download());
      } finally {
        controller.signal.removeEventListener('abort', close);
      }
      // node-llama-cpp resolves (rather than rejects) when its download is closed.
      if (controller.signal.aborted) throw controller.signal.reason;
      job.bytesDone = downloader.totalSize || job.bytesDone;
      await assertGguf(downloader.entrypointFilePath);
      for (const file of downloader.filesInfo) {
        await rename(file.filePath, path.join(this.modelsDir, file.fileName));
      }
      await rm(staging, { recursive: true, force: true });
      this.#finish(job, 'done', null);
      this.logger.info({ uri: job.uri, file: job.fileName, bytes: job.bytesDone }, 'model downloaded');
      this.callbacks.onModelAdded?.(path.join(this.modelsDir, job.fileName));
    } catch (caught) {
      clearInterval(spaceWatch);
      await closing;
      const stoppedBy: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      // A failure the download itself decided on (refused target, disk nearly full) shows as that failure.
      const error = stoppedBy instanceof DownloadProblem ? stoppedBy : caught;
      if (
        stoppedBy instanceof Error &&
        !(stoppedBy instanceof DownloadProblem) &&
        stoppedBy.message === 'cancelled'
      ) {
        await downloader?.cancel({ deleteTempFile: true }).catch(() => undefined);
        await rm(staging, { recursive: true, force: true }).catch(() => undefined);
        this.#finish(job, 'cancelled', null);
      } else if (isStop(stoppedBy)) {
        // Server stopping: the partial file stays in staging, and the next attempt resumes it.
        if (downloader) await keepResumable(downloader);
        const reason = (stoppedBy as Error).message;
        this.#finish(job, 'cancelled', `interrupted (${reason}); it resumes at the next start`);
      } else {
        const message = describeFailure(error);
        // A failed download leaves no partial model: the staging folder goes entirely.
        await downloader?.cancel({ deleteTempFile: true }).catch(() => undefined);
        await rm(staging, { recursive: true, force: true }).catch(() => undefined);
        this.#finish(job, 'failed', message);
        this.logger.warn({ uri: job.uri, err: error }, 'model download failed');
        if (error instanceof DiskSpaceProblem || isStorageError(error))
          this.callbacks.onDiskProblem?.(`the download of ${job.fileName} failed: ${message}`);
      }
    }
    clearInterval(spaceWatch);
    update(true);
  }

  /** Fails before anything is written when the file would leave less than the reserve free. */
  async #assertRoomFor(bytes: number): Promise<void> {
    const free = await this.#freeBytes();
    if (free === undefined || bytes <= 0 || free - bytes >= this.reserveBytes) return;
    throw new DiskSpaceProblem(
      `not enough disk space: the file needs ${megabytes(bytes)} more, ${megabytes(free)} are free ` +
        `and downloads.reserveBytes keeps ${megabytes(this.reserveBytes)} free`,
    );
  }

  #finish(job: DownloadJob, state: DownloadJob['state'], error: string | null): void {
    job.state = state;
    job.error = error;
    job.speedBytesPerSecond = 0;
    job.finishedAt = new Date().toISOString();
  }
}

class DownloadProblem extends Error {}

/** A server stop (not a cancel, not a failure): the partial file is kept for resume. */
function isStop(reason: unknown): boolean {
  return reason instanceof Error && !(reason instanceof DownloadProblem) && reason.message !== 'cancelled';
}
class DiskSpaceProblem extends DownloadProblem {}

function isStorageError(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT' || code === 'EROFS' || code === 'EACCES';
}

/**
 * The origin chooses the file name (Content-Disposition, the URL's last segment): only a name the library
 * lists, and so can delete, is accepted — a plain `<name>.gguf`, not hidden, no folders.
 */
function assertListableName(name: string): void {
  const listable =
    /\.gguf$/i.test(name) &&
    name.length > '.gguf'.length &&
    !name.startsWith('.') &&
    !/[\\/]/.test(name) &&
    ![...name].some((char) => char.charCodeAt(0) < 0x20 || char.charCodeAt(0) === 0x7f);
  if (!listable) {
    throw new DownloadProblem(
      `the origin named the file ${JSON.stringify(name)}, which is not a <name>.gguf file the library lists`,
    );
  }
}

/** The URI as it may be shown and logged: credentials and secret-looking query values replaced. */
export function redactUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return uri;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return uri;
  if (url.username || url.password) {
    url.username = 'redacted';
    url.password = '';
  }
  for (const key of [...url.searchParams.keys()]) {
    if (/token|key|secret|sig|pass|auth|credential/i.test(key)) url.searchParams.set(key, 'redacted');
  }
  return url.toString();
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

/** `work`, unless the signal aborts first (rejects with its reason) or it takes longer than `timeoutMs`. */
function untilAbortedOrLate<T>(
  signal: AbortSignal,
  timeoutMs: number,
  lateMessage: string,
  work: Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DownloadProblem(lateMessage)), timeoutMs);
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // If `work` settles after we gave up on it, nobody is waiting: keep that from being an unhandled rejection.
  work.catch(() => undefined);
  return Promise.race([work, stopped]).finally(() => {
    clearTimeout(timer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  });
}

async function assertGguf(file: string): Promise<void> {
  try {
    await assertGgufFile(file);
  } catch (error) {
    throw new DownloadProblem(`the downloaded file is not a GGUF model (${(error as Error).message})`);
  }
}

/** Why a download failed, in words a user can act on. */
export function describeFailure(error: unknown): string {
  if (error instanceof DownloadProblem) return error.message;
  const err = error as { statusCode?: number; statusText?: string; code?: string; message?: string };
  // Which status an origin answered is not echoed: it would tell what listens where (a port oracle).
  if (typeof err?.statusCode === 'number')
    return 'the origin did not serve the file (it answered an HTTP error)';
  if (err?.code === 'ENOSPC') return 'the disk is full';
  if (err?.code === 'EACCES' || err?.code === 'EROFS')
    return `the models directory cannot be written (${err.code})`;
  return err?.message ?? String(error);
}

function guessFileName(uri: string): string {
  const last = uri.split(/[/#?]/).filter(Boolean).at(-1) ?? uri;
  try {
    return decodeURIComponent(last.replace(/^hf:/, ''));
  } catch {
    return last;
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Names of staged (incomplete) downloads, for diagnostics. */
export async function stagedDownloads(modelsDir: string): Promise<string[]> {
  return readdir(path.join(modelsDir, STAGING_DIR)).catch(() => []);
}

/**
 * ipull renames its progress file (`<name>.ipull`: the data so far with the progress record after it)
 * to the final name when a download is closed unfinished while its progress reads 100% (it counts each
 * finished chunk as a whole chunk, so a short last chunk finished early overstates it), and then no longer
 * recognises it as a download to resume. Put it back under the name ipull looks for, so the next attempt fetches only what is missing.
 */
async function keepResumable(downloader: ModelDownloader): Promise<void> {
  // Closes a downloader the abort caught before it started. Otherwise ipull is already closing and this
  // returns at once, but that close is over: download() returns only after it (the rename comes first, then
  // the file is closed, then the fetches are aborted, which is what lets download() return).
  await downloader.cancel({ deleteTempFile: false }).catch(() => undefined);
  for (const file of downloader.filesInfo) {
    const progressFile = `${file.filePath}.ipull`;
    if ((await exists(file.filePath)) && !(await exists(progressFile))) {
      await rename(file.filePath, progressFile).catch(() => undefined);
    }
  }
}

import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import { recordStart } from './crash-loop.ts';
import type { EventBus } from '../runtime/events.ts';
import type { Lifecycle, ModelCounts } from '../runtime/lifecycle.ts';
import {
  readRuntimeState,
  RuntimeStateStore,
  type PersistedModel,
  type RuntimeState,
} from './runtime-state.ts';

export interface RecoverySnapshot {
  startupCount: number;
  /** How the previous run ended; null on the first start (or when its state was lost). */
  lastCleanShutdown: boolean | null;
  /** Why runtime-state.json cannot be written (read-only or full data dir), else null. */
  stateWriteError: string | null;
  /** What was wrong with the previous state file, if it was corrupt or unreadable. */
  stateProblem: string | null;
}

/**
 * Coming back after a stop or a crash: owns runtime-state.json and crash-loop safe mode. `begin` runs
 * right after the data-dir lock is taken;
 * `restore` brings back the models of the previous run in the background; `finish` records a clean stop.
 */
export class Recovery {
  readonly #pendingRestore = new Map<string, PersistedModel>();
  #loaded: PersistedModel[] = [];
  #cleanRunTimer: NodeJS.Timeout | undefined;
  /** Set by whoever owns the models, so state events report real readiness. */
  modelCounts: () => ModelCounts = () => ({ loaded: 0, loading: 0 });

  private constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly events: EventBus,
    private readonly lifecycle: Lifecycle,
    readonly store: RuntimeStateStore,
    private readonly previous: RuntimeState | undefined,
    private readonly stateProblem: string | null,
  ) {}

  static async begin(
    config: Config,
    logger: Logger,
    events: EventBus,
    lifecycle: Lifecycle,
    /** runtime-state.json could not be written (a full or read-only disk); the server goes on. */
    onWriteError: (problem: string) => void = () => {},
  ): Promise<Recovery> {
    const now = new Date();
    const read = await readRuntimeState(config.dataDir, now);
    let previous: RuntimeState | undefined;
    let stateProblem: string | null = null;
    if (read.kind === 'ok') previous = read.state;
    else if (read.kind === 'corrupt') {
      stateProblem = `runtime-state.json was corrupt (${read.problem})`;
      logger.error(
        { movedTo: read.movedTo, problem: read.problem },
        'runtime state file is corrupt; moved aside, starting fresh',
      );
    } else if (read.kind === 'unreadable') {
      stateProblem = read.problem;
      logger.error({ problem: read.problem }, 'runtime state file cannot be read; starting fresh');
    }
    const start = recordStart(previous, now, config.crashLoop);
    if (start.previousCrashed)
      logger.warn({ previousPid: previous?.pid }, 'the previous run did not shut down cleanly');
    const store = new RuntimeStateStore(
      config.dataDir,
      {
        version: 1,
        pid: process.pid,
        last_clean_shutdown: false,
        startup_count: (previous?.startup_count ?? 0) + 1,
        last_startup_at: now.toISOString(),
        recent_starts: start.recentStarts,
        // Kept until the loaded set changes, so a crash during restore (or safe mode) forgets nothing.
        loaded_models: previous?.loaded_models ?? [],
      },
      (problem) => {
        logger.error(
          { problem },
          'the data directory cannot be written; the server keeps serving without persisting its state',
        );
        onWriteError(problem);
      },
    );
    await store.update(() => {});
    const recovery = new Recovery(config, logger, events, lifecycle, store, previous, stateProblem);
    if (start.safeModeReason) recovery.#enterSafeMode(start.safeModeReason);
    return recovery;
  }

  snapshot(): RecoverySnapshot {
    return {
      startupCount: this.store.state.startup_count,
      lastCleanShutdown: this.previous ? this.previous.last_clean_shutdown : null,
      stateWriteError: this.store.writeError,
      stateProblem: this.stateProblem,
    };
  }

  /**
   * Loads the startup models (--model) and, with autoload, the models of the previous run, in the
   * background while /readyz says `loading`. Nothing is loaded in safe mode. A model that fails is
   * logged and skipped (and shows as failed in the model list).
   */
  restore(load: (model: PersistedModel) => Promise<unknown>): Promise<void> {
    // A clean run of one crash-loop window ends the streak.
    this.#cleanRunTimer = setTimeout(
      () => void this.store.update((state) => void (state.recent_starts = [])),
      this.config.crashLoop.windowMs,
    );
    this.#cleanRunTimer.unref();
    if (this.lifecycle.safeMode) return Promise.resolve();
    const wanted = new Map<string, PersistedModel>();
    for (const file of this.config.startupModels) wanted.set(file, { id: file, path: file });
    if (this.config.autoload) {
      for (const model of this.previous?.loaded_models ?? [])
        if (!wanted.has(model.path)) wanted.set(model.path, model);
    }
    if (wanted.size === 0) return Promise.resolve();
    for (const model of this.previous?.loaded_models ?? [])
      if (this.config.autoload) this.#pendingRestore.set(model.id, model);
    this.lifecycle.restoring = true;
    this.#publishState();
    return Promise.allSettled(
      [...wanted.values()].map((model) =>
        load(model)
          .catch((error: unknown) => {
            this.logger.error(
              { err: error, model: model.id, file: model.path },
              'model failed to come back at start; skipped',
            );
          })
          .finally(() => {
            this.#pendingRestore.delete(model.id);
            void this.#persist();
          }),
      ),
    ).then(() => {
      this.lifecycle.restoring = false;
      this.#publishState();
    });
  }

  /** The manager's loaded set changed: persist it (plus any model still waiting to be restored). */
  loadedSetChanged(models: PersistedModel[]): Promise<void> {
    this.#loaded = models;
    return this.#persist();
  }

  async exitSafeMode(): Promise<void> {
    if (!this.lifecycle.safeMode) return;
    this.lifecycle.safeMode = undefined;
    await this.store.update((state) => void (state.recent_starts = []));
    this.logger.warn('safe mode left by an admin');
    this.events.alert('safe_mode', 'info', 'Safe mode was turned off; models can be loaded again.');
    this.#publishState();
  }

  /** A clean stop, recorded in runtime-state.json. */
  async finish(): Promise<void> {
    clearTimeout(this.#cleanRunTimer);
    await this.store.update((state) => {
      state.last_clean_shutdown = true;
      state.recent_starts = [];
    });
  }

  /** A start that failed half-way: nothing is recorded (the failure counts as a crash). */
  abandon(): void {
    clearTimeout(this.#cleanRunTimer);
  }

  #persist(): Promise<void> {
    const byId = new Map(this.#loaded.map((model) => [model.id, model]));
    for (const [id, model] of this.#pendingRestore) if (!byId.has(id)) byId.set(id, model);
    const models = [...byId.values()];
    if (JSON.stringify(models) === JSON.stringify(this.store.state.loaded_models)) return Promise.resolve();
    return this.store.update((state) => void (state.loaded_models = models));
  }

  #enterSafeMode(reason: string): void {
    this.lifecycle.safeMode = { reason };
    this.logger.error({ reason }, 'safe mode: models are not restored; POST /admin/safe-mode/exit leaves it');
    this.events.alert(
      'crash_loop',
      'critical',
      `Safe mode: ${reason}. Models load only through explicit admin calls.`,
    );
    this.#publishState();
  }

  #publishState(): void {
    const readiness = this.lifecycle.readiness(this.modelCounts());
    this.events.publish('state', {
      status: readiness.ready ? 'ready' : readiness.reason,
      reason: this.lifecycle.safeMode?.reason ?? null,
    });
  }
}

import { unlink } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from '../config/schema.ts';
import type {
  LoadedModelView,
  LoadOptions,
  ModelEntry,
  ModelKind,
  ModelState,
} from '../../shared/admin-api.ts';
import type { EventBus } from '../runtime/events.ts';
import type { ModelCounts } from '../runtime/lifecycle.ts';
import type { ModelTrials, Trial } from '../persistence/model-trials.ts';
import type { PersistedModel } from '../persistence/runtime-state.ts';
import { InsufficientMemoryError, type Engine, type ModelFileLoad } from '../engine/engine.ts';
import { AdmissionQueue } from '../resilience/admission-queue.ts';
import { ModelKindError, type LoadedModel } from '../engine/loaded-model.ts';
import type { LibraryModel, ModelLibrary } from './library.ts';
import {
  ModelLoadError,
  ModelMemoryError,
  ModelNotFoundError,
  ModelRefusedError,
  ModelStateError,
  ModelUnavailableError,
} from './errors.ts';
import { planFit, totalBytes, type MemoryNeed } from './memory-budget.ts';

/** Settings the manager reads on every decision, so PUT /admin/config changes them live. */
export interface ModelSettings {
  jitLoad: boolean;
  memory: { reserveBytes: number; budgetBytes: number };
  ttlSeconds: number;
}

export type LoadOrigin = 'admin' | 'jit' | 'restore';

/** What a load may change from the configured defaults (POST /admin/models/load, a restored model). */
export type ModelLoadOverrides = LoadOptions;

interface ModelRecord {
  state: ModelState;
  error: string | null;
  loaded?: LoadedModel;
  need?: MemoryNeed;
  loading?: Promise<LoadedModel>;
  unloading?: Promise<void>;
  options?: PersistedModel;
  tokensPerSecond: number | null;
  tokenSample?: { tokens: number; at: number };
}

export interface ModelManagerOptions {
  engine: Engine;
  library: ModelLibrary;
  events: EventBus;
  logger: Logger;
  config: Config;
  settings: () => ModelSettings;
  /** Called whenever the set of loaded models changes (for runtime-state.json). */
  onLoadedSetChanged?: (models: PersistedModel[]) => Promise<void> | void;
  /** How long an unload waits for in-flight requests before cutting them off. */
  unloadDrainMs?: number;
  /** First loads and first inferences of each file, and the files that crashed the server in them. */
  trials: ModelTrials;
}

/**
 * The models' life: unloaded → loading → loaded → unloading → unloaded (or failed). Loads and unloads
 * are serialized; a memory check (and LRU eviction of idle models) comes before every load; an unload
 * first refuses new requests, then waits (bounded) for in-flight ones. /v1 requests reach models through
 * `forInference`, which loads library models just in time when `jitLoad` is on.
 */
export class ModelManager {
  readonly #records = new Map<string, ModelRecord>();
  #lock: Promise<unknown> = Promise.resolve();
  #jitWaiting = 0;
  #ttlTimer: NodeJS.Timeout | undefined;
  #disposed = false;
  /** Aborted by dispose(): a probe process still running is killed (a hanging one would hold the stop). */
  readonly #stopping = new AbortController();

  constructor(private readonly options: ModelManagerOptions) {
    this.#ttlTimer = setInterval(() => void this.#unloadExpired(), 1000);
    this.#ttlTimer.unref();
  }

  /** Loaded and loading models, as readiness, the app's keep-awake activity and the stats all count them. */
  counts(): ModelCounts {
    let loaded = 0;
    let loading = 0;
    for (const record of this.#records.values()) {
      if (record.state === 'loaded') loaded++;
      else if (record.state === 'loading') loading++;
    }
    return { loaded, loading };
  }

  /** The models in memory now (metrics, deep health). */
  loadedModels(): LoadedModel[] {
    return [...this.#records.values()].flatMap((record) => (record.loaded ? [record.loaded] : []));
  }

  /** One loaded model by id, or undefined. */
  loaded(id: string): LoadedModel | undefined {
    return this.#records.get(id)?.loaded;
  }

  /** Models whose last load failed, with why (deep health). */
  failures(): { id: string; error: string }[] {
    return [...this.#records.entries()]
      .filter(([, record]) => record.state === 'failed')
      .map(([id, record]) => ({ id, error: record.error ?? 'unknown error' }));
  }

  /** Requests running and waiting (for a slot, or for a just-in-time load), across models. */
  activity(): { inflight: number; queued: number; generatedTokens: number } {
    let inflight = 0;
    let queued = this.#jitWaiting;
    let generatedTokens = 0;
    for (const record of this.#records.values()) {
      if (!record.loaded) continue;
      inflight += record.loaded.admission.running;
      queued += record.loaded.admission.queued;
      generatedTokens += record.loaded.generatedTokens;
    }
    return { inflight, queued, generatedTokens };
  }

  /** Mean time to first token of the generations finished since the last call, across models. */
  takeRecentTtftMs(): number | null {
    const samples = [...this.#records.values()].flatMap((record) => record.loaded?.takeRecentTtftMs() ?? []);
    return samples.length === 0 ? null : samples.reduce((sum, value) => sum + value, 0) / samples.length;
  }

  /**
   * The model a /v1 request names, loading it first if it is in the library and jitLoad is on. With
   * `wanted`, a model of another kind is a ModelKindError (before any just-in-time load).
   */
  async forInference(id: string, wanted?: ModelKind): Promise<LoadedModel> {
    const model = await this.#forInference(id, wanted);
    if (wanted && model.kind !== wanted) throw new ModelKindError(model.id, model.kind, wanted);
    return model;
  }

  async #forInference(id: string, wanted: ModelKind | undefined): Promise<LoadedModel> {
    const record = this.#records.get(id);
    if (record?.state === 'loaded' && record.loaded) {
      record.loaded.lastUsedAt = Date.now();
      return record.loaded;
    }
    if (record?.state === 'unloading') {
      throw new ModelUnavailableError(
        `The model '${id}' is being unloaded; retry shortly.`,
        'model_unloading',
      );
    }
    if (!record?.loading) {
      const model = await this.options.library.resolve(id);
      const kind = (await this.options.library.info(model)).kind?.kind;
      if (wanted && kind && kind !== wanted) throw new ModelKindError(model.id, kind, wanted);
      if (!this.options.settings().jitLoad) {
        throw new ModelNotFoundError(
          id,
          'exists but is not loaded (jitLoad is off; load it with POST /admin/models/load)',
        );
      }
    }
    this.#jitWaiting++;
    try {
      return await (record?.loading ?? this.load(id, {}, 'jit'));
    } finally {
      this.#jitWaiting--;
    }
  }

  /** Models clients may name: the loaded ones, and with jitLoad every library model. */
  async listForClients(): Promise<{ id: string; createdMs: number; kind: ModelKind | null }[]> {
    const listed = new Map<string, { createdMs: number; kind: ModelKind | null }>();
    for (const [id, record] of this.#records) {
      if (record.loaded) listed.set(id, { createdMs: record.loaded.loadedAt, kind: record.loaded.kind });
    }
    if (this.options.settings().jitLoad) {
      for (const model of this.options.library.lastScan.models) {
        if (listed.has(model.id) || model.problem) continue;
        const kind = (await this.options.library.info(model)).kind?.kind ?? null;
        listed.set(model.id, { createdMs: 0, kind });
      }
    }
    return [...listed].map(([id, entry]) => ({ id, ...entry }));
  }

  async list(): Promise<ModelEntry[]> {
    const scan = await this.options.library.scan();
    const entries = await Promise.all(scan.models.map((model) => this.#entry(model)));
    for (const [id, record] of this.#records) {
      if (scan.models.some((model) => model.id === id) || !record.options) continue;
      const { path } = record.options;
      entries.push(
        this.#entryFrom(
          { id, path, files: [path], sizeBytes: 0, inLibrary: false, problem: null },
          null,
          record,
        ),
      );
    }
    return entries;
  }

  async entry(name: string): Promise<ModelEntry> {
    const record = this.#records.get(name);
    if (record?.options) {
      const model = this.options.library.lastScan.models.find((candidate) => candidate.id === name);
      if (model) return this.#entry(model);
    }
    return this.#entry(await this.options.library.resolve(name));
  }

  /**
   * Loads a library model. A model already loaded is a 409 for an admin call (and simply returned to
   * others); a model that is loading is waited for; one that cannot fit in memory is a 507.
   */
  async load(
    name: string,
    overrides: ModelLoadOverrides = {},
    origin: LoadOrigin = 'admin',
  ): Promise<LoadedModel> {
    if (this.#disposed) throw new ModelUnavailableError('The server is stopping.', 'server_stopping');
    const model = await this.options.library.resolve(name);
    const record = this.#records.get(model.id);
    if (record?.state === 'loaded' && record.loaded) {
      if (origin === 'admin')
        throw new ModelStateError(`The model '${model.id}' is already loaded.`, 'model_already_loaded');
      return record.loaded;
    }
    if (record?.loading) return record.loading;
    if (record?.state === 'unloading') {
      throw new ModelStateError(
        `The model '${model.id}' is being unloaded; load it again once that is done.`,
        'model_unloading',
      );
    }
    const next: ModelRecord = { state: 'loading', error: null, tokensPerSecond: null };
    const loading = this.#serialized(() => this.#load(model, overrides, next, origin));
    next.loading = loading;
    this.#records.set(model.id, next);
    this.#publish(model.id, next);
    try {
      return await loading;
    } catch (error) {
      const capacity = error instanceof ModelMemoryError;
      next.state = capacity ? 'unloaded' : 'failed';
      next.error = error instanceof Error ? error.message : String(error);
      this.#publish(model.id, next);
      this.options.logger.error({ model: model.id, origin, err: error }, 'model failed to load');
      if (capacity) this.options.events.alert('memory', 'warning', next.error);
      throw error;
    } finally {
      next.loading = undefined;
    }
  }

  /** Unloads a loaded model: refuses new requests at once, waits (bounded) for in-flight ones. 409 if not loaded. */
  async unload(name: string): Promise<void> {
    const id = this.#records.has(name) ? name : (await this.options.library.resolve(name)).id;
    const record = this.#records.get(id);
    if (record?.state === 'unloading' && record.unloading) return record.unloading;
    if (record?.state !== 'loaded') {
      const state = record?.state ?? 'unloaded';
      throw new ModelStateError(`The model '${id}' is not loaded (it is ${state}).`, 'model_not_loaded');
    }
    await this.#unload(id, 'admin');
  }

  /** Deletes a library model's files; 409 while it is loaded, 400 for files outside the models dir. */
  async delete(name: string): Promise<void> {
    const model = await this.options.library.resolve(name);
    if (!model.inLibrary) {
      throw new ModelRefusedError(
        `The model '${model.id}' was named on the command line and is outside the models directory; it is not deleted.`,
        'model_outside_library',
        'id',
      );
    }
    const state = this.#records.get(model.id)?.state;
    if (state === 'loaded' || state === 'loading' || state === 'unloading') {
      throw new ModelStateError(
        `The model '${model.id}' is ${state}; unload it before deleting it.`,
        'model_loaded',
      );
    }
    for (const file of model.files) await unlink(file);
    this.options.library.forget(model);
    this.#records.delete(model.id);
    this.options.logger.info({ model: model.id, files: model.files }, 'model deleted');
    await this.options.library.scan();
  }

  /** Unloads everything (server stop); the persisted loaded set stays, so the next start restores it. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#stopping.abort();
    clearInterval(this.#ttlTimer);
    await Promise.allSettled([...this.#records.values()].map((record) => record.loading));
    for (const [id, record] of this.#records) {
      if (record.state === 'loaded') await this.#unload(id, 'stop', false).catch(() => undefined);
    }
  }

  /** Samples throughput (called every couple of seconds by the stats ticker). */
  sampleThroughput(now = Date.now()): void {
    for (const record of this.#records.values()) {
      if (!record.loaded) continue;
      const tokens = record.loaded.generatedTokens;
      const previous = record.tokenSample;
      if (previous && now > previous.at && tokens > previous.tokens) {
        record.tokensPerSecond = ((tokens - previous.tokens) * 1000) / (now - previous.at);
      }
      record.tokenSample = { tokens, at: now };
    }
  }

  async #load(
    model: LibraryModel,
    overrides: ModelLoadOverrides,
    record: ModelRecord,
    origin: LoadOrigin,
  ): Promise<LoadedModel> {
    const { engine, config, library, trials } = this.options;
    const info = await library.info(model);
    if (info.error || !info.estimate) throw new ModelLoadError(model.id, info.error ?? 'unreadable');
    // A file that took the process down is loaded again only when an admin asks for it by name.
    const file = { path: model.path, sizeBytes: model.sizeBytes };
    const crash = trials.crashReason(file);
    if (crash && origin !== 'admin') throw new ModelLoadError(model.id, crash);
    if (crash) await trials.forgive(file);
    // The one place a load's shape is decided: the request's overrides, else the configuration.
    const shape = {
      contextSize: overrides.contextSize ?? config.contextSize,
      parallel: overrides.parallel ?? config.parallel,
      gpuLayers: overrides.gpuLayers,
      batchSize: config.engine.batchSize || undefined,
    };
    const kind = overrides.kind ?? info.kind?.kind ?? 'chat';
    const need = info.estimate(shape, engine.backend !== 'cpu');
    const settings = this.options.settings();
    const plan = planFit(need, this.#budgetModels(), await engine.memoryAvailability(), settings.memory);
    if (!plan.fits) throw new ModelMemoryError(model.id, plan.neededBytes, plan.availableBytes, plan.busy);
    for (const id of plan.evict) {
      this.options.logger.info(
        { model: id, for: model.id },
        'unloading least recently used model to make room',
      );
      this.options.events.alert(
        'memory',
        'info',
        `Unloaded '${id}' (least recently used) to make room for '${model.id}'.`,
      );
      await this.#unloadLocked(id, 'evicted');
    }
    let loaded: LoadedModel;
    const request = {
      id: model.id,
      path: model.path,
      contextSize: shape.contextSize,
      parallel: shape.parallel,
      gpuLayers: shape.gpuLayers,
      kind,
      admission: new AdmissionQueue({ ...config.queue, concurrency: shape.parallel }),
    };
    const trial = await trials.begin(file, 'load');
    try {
      if (trial && config.models.probeFirstLoad) await this.#probe(model, request, trial);
      loaded = await engine.loadModel(request);
    } catch (error) {
      await trial?.ended();
      if (error instanceof ModelLoadError) throw error;
      if (error instanceof InsufficientMemoryError)
        throw new ModelMemoryError(model.id, totalBytes(need), 0, []);
      throw new ModelLoadError(model.id, (error as Error).message);
    }
    await trial?.passed();
    loaded.beginInferenceTrial = () => trials.begin(file, 'inference');
    Object.assign(record, {
      state: 'loaded',
      error: null,
      loaded,
      need,
      options: { id: model.id, path: model.path, ...definedOnly(overrides) },
    } satisfies Partial<ModelRecord>);
    this.#publish(model.id, record);
    await this.#loadedSetChanged();
    return loaded;
  }

  /** A file on trial is first loaded by a probe process; one that kills it is refused and never loaded here. */
  async #probe(model: LibraryModel, request: ModelFileLoad, trial: Trial): Promise<void> {
    const verdict = await this.options.engine.probeFirstLoad(
      request,
      this.options.config.models.probeTimeoutMs,
      this.#stopping.signal,
    );
    if (this.#stopping.signal.aborted)
      throw new ModelUnavailableError('The server is stopping.', 'server_stopping');
    if (verdict.survived === undefined) {
      // Nothing is known about the file; the trial still guards the load that follows.
      this.options.logger.error({ model: model.id, why: verdict.how }, 'model probe could not run');
      return;
    }
    if (verdict.survived) return;
    await trial.crashedProbe(verdict.phase, verdict.how);
    this.options.logger.error({ model: model.id, ...verdict }, 'a model file crashed its probe process');
    this.options.events.alert(
      'model_crash',
      'critical',
      `'${model.id}' crashed a probe process (${verdict.how}) during its first ${verdict.phase}: it is refused, not restored or loaded just in time until an admin loads it again.`,
    );
    throw new ModelLoadError(
      model.id,
      this.options.trials.crashReason({ path: model.path, sizeBytes: model.sizeBytes }) ?? verdict.how,
    );
  }

  #unload(id: string, why: string, serialized = true): Promise<void> {
    const record = this.#records.get(id);
    if (!record) return Promise.resolve();
    record.state = 'unloading';
    this.#publish(id, record);
    const run = serialized
      ? this.#serialized(() => this.#unloadLocked(id, why))
      : this.#unloadLocked(id, why);
    record.unloading = run;
    return run;
  }

  /** Runs under the lock: waits for in-flight requests (bounded), then frees the model. */
  async #unloadLocked(id: string, why: string): Promise<void> {
    const record = this.#records.get(id);
    if (!record?.loaded) return;
    if (record.state !== 'unloading') {
      record.state = 'unloading';
      this.#publish(id, record);
    }
    const model = record.loaded;
    const drainMs = this.options.unloadDrainMs ?? this.options.config.drainTimeoutMs;
    const deadline = Date.now() + drainMs;
    while (model.inflight > 0 && Date.now() < deadline) await sleep(20);
    if (model.inflight > 0) {
      this.options.logger.warn(
        { model: id, inflight: model.inflight, drainMs },
        'unloading with requests still in flight',
      );
    }
    await model.dispose();
    this.#records.delete(id);
    this.#publish(id, { state: 'unloaded', error: null });
    this.options.logger.info({ model: id, why }, 'model unloaded');
    // A stop frees the models but keeps them as the set to bring back, as a crash would.
    if (!this.#disposed) await this.#loadedSetChanged();
  }

  async #unloadExpired(): Promise<void> {
    const ttlSeconds = this.options.settings().ttlSeconds;
    if (ttlSeconds <= 0 || this.#disposed) return;
    const cutoff = Date.now() - ttlSeconds * 1000;
    for (const [id, record] of this.#records) {
      const model = record.loaded;
      if (record.state !== 'loaded' || !model || model.inflight > 0 || model.lastUsedAt > cutoff) continue;
      this.options.logger.info({ model: id, ttlSeconds }, 'unloading idle model (models.ttlSeconds)');
      await this.#unload(id, 'ttl').catch((error: unknown) =>
        this.options.logger.error({ model: id, err: error }, 'idle unload failed'),
      );
    }
  }

  #budgetModels() {
    return [...this.#records]
      .filter(([, record]) => record.loaded && record.need)
      .map(([id, record]) => ({
        id,
        need: record.need as MemoryNeed,
        lastUsedAt: (record.loaded as LoadedModel).lastUsedAt,
        idle: record.state === 'loaded' && (record.loaded as LoadedModel).inflight === 0,
      }));
  }

  async #entry(model: LibraryModel): Promise<ModelEntry> {
    const info = await this.options.library.info(model);
    return this.#entryFrom(model, info, this.#records.get(model.id));
  }

  #entryFrom(
    model: LibraryModel,
    info: Awaited<ReturnType<ModelLibrary['info']>> | null,
    record: ModelRecord | undefined,
  ): ModelEntry {
    return {
      id: model.id,
      path: model.path,
      sizeBytes: model.sizeBytes,
      architecture: info?.architecture ?? null,
      parameters: info?.parameters ?? null,
      quantization: info?.quantization ?? null,
      trainedContext: info?.trainedContext ?? null,
      kind: record?.loaded?.kind ?? info?.kind?.kind ?? null,
      state: record?.state ?? 'unloaded',
      error:
        record?.error ?? (record ? null : (info?.error ?? this.options.trials.crashReason(model) ?? null)),
      loaded: record?.loaded ? loadedView(record) : null,
    };
  }

  #publish(id: string, record: Pick<ModelRecord, 'state' | 'error'>): void {
    this.options.events.publish('model', { id, state: record.state, error: record.error });
  }

  /** Persisted before the load or unload answers, so a crash right after a 200 forgets nothing. */
  async #loadedSetChanged(): Promise<void> {
    const models = [...this.#records.values()]
      .filter((record) => record.state === 'loaded' && record.options)
      .map((record) => record.options as PersistedModel);
    await this.options.onLoadedSetChanged?.(models);
  }

  #serialized<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(task, task);
    this.#lock = run.catch(() => undefined);
    return run;
  }
}

function loadedView(record: ModelRecord): LoadedModelView {
  const model = record.loaded as LoadedModel;
  return {
    contextSize: model.contextSize,
    parallel: model.options.parallel,
    gpuLayers: typeof model.options.gpuLayers === 'number' ? model.options.gpuLayers : null,
    memoryBytes: record.need ? totalBytes(record.need) : 0,
    loadedAt: new Date(model.loadedAt).toISOString(),
    lastUsedAt: new Date(model.lastUsedAt).toISOString(),
    inflight: model.admission.running,
    queued: model.admission.queued,
    busySequences: model.busySequences,
    tokensPerSecond: record.tokensPerSecond,
  };
}

function definedOnly(overrides: ModelLoadOverrides): ModelLoadOverrides {
  return Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The admin API on the wire: what the server sends and the dashboard reads. Types only, shared by
 * server/ and renderer/ (`import type`), so the two cannot drift apart.
 */
import type { Alert } from './ipc-contract.ts';

export type { Alert, AlertKind, AlertSeverity } from './ipc-contract.ts';

/** OpenAI's error body, which every error of the server has. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export type ServerStatus = 'ready' | 'starting' | 'loading' | 'no_model_loaded' | 'draining' | 'safe_mode';

/** GET /admin/state */
export interface ServerState {
  status: ServerStatus;
  reason: string | null;
  version: string;
  uptimeSeconds: number;
  pid: number;
  endpoints: { local: string; lan: string | null };
  lan: boolean;
  safeMode: { active: boolean; reason: string | null };
  startupCount: number;
  lastCleanShutdown: boolean | null;
}

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface HealthComponent {
  name: string;
  status: HealthStatus;
  latencyMs: number;
  details: Record<string, unknown>;
}

/** GET /admin/health */
export interface HealthReport {
  status: HealthStatus;
  checkedAt: string;
  components: HealthComponent[];
}

/** What POST /admin/models/load may change from the configured defaults (beside `model`). */
/** What a model file is for: text generation, embeddings or reranking (each needs its own kind of context). */
export const modelKinds = ['chat', 'embedding', 'reranker'] as const;
export type ModelKind = (typeof modelKinds)[number];

export interface LoadOptions {
  contextSize?: number;
  parallel?: number;
  gpuLayers?: number;
  /** Overrides the kind read from the file's GGUF metadata. */
  kind?: ModelKind;
}

export type ModelState = 'unloaded' | 'loading' | 'loaded' | 'unloading' | 'failed';

export interface LoadedModelView {
  contextSize: number;
  parallel: number;
  gpuLayers: number | null;
  memoryBytes: number;
  loadedAt: string;
  lastUsedAt: string;
  inflight: number;
  queued: number;
  /** Sequences held by generations now; 0 at rest (a higher count at rest is a leaked sequence). */
  busySequences: number;
  tokensPerSecond: number | null;
}

/** One model of GET /admin/models */
export interface ModelEntry {
  id: string;
  path: string;
  sizeBytes: number;
  architecture: string | null;
  parameters: number | null;
  quantization: string | null;
  trainedContext: number | null;
  /** The kind the model is (or would be) loaded as; null when the file cannot be read. */
  kind: ModelKind | null;
  state: ModelState;
  error: string | null;
  loaded: LoadedModelView | null;
}

export type DownloadState = 'running' | 'done' | 'failed' | 'cancelled';

/** One job of GET /admin/downloads */
export interface DownloadJob {
  id: string;
  uri: string;
  fileName: string;
  bytesDone: number;
  bytesTotal: number | null;
  speedBytesPerSecond: number;
  state: DownloadState;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

export interface Stats {
  tokensPerSecond: number;
  ttftMs: number | null;
  inflight: number;
  queued: number;
  at: string;
}

/** Every message of GET /admin/events, keyed by its SSE `event:` type. */
export interface ServerEvents {
  model: { id: string; state: ModelState; error: string | null };
  download: DownloadJob;
  health: { status: HealthStatus };
  state: { status: ServerStatus; reason: string | null };
  alert: Alert;
  stats: Stats;
}

/** One node of the pool as GET /admin/cluster reads it from its public /readyz and /metrics. */
export interface PeerNode {
  url: string;
  reachable: boolean;
  ready: boolean;
  /** Why not ready (draining, loading, safe_mode…) or why it could not be read. */
  reason: string | null;
  models: string[];
  queued: number;
  inflight: number;
  /** Generated tokens per second since the previous reading; null on the first. */
  tokensPerSecond: number | null;
}

/** GET /admin/cluster: the configured peers (cluster.peers), in their order. */
export interface ClusterView {
  peers: PeerNode[];
}

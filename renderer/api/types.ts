// The admin API as the UI sees it (the contract in the admin API document). Types only: the renderer
// never imports server code, so these mirror the wire format rather than the server's internals.

export type ServerStatus = 'ready' | 'starting' | 'loading' | 'no_model_loaded' | 'draining' | 'safe_mode';

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

export interface HealthReport {
  status: HealthStatus;
  checkedAt: string;
  components: HealthComponent[];
}

export type ModelState = 'unloaded' | 'loading' | 'loaded' | 'unloading' | 'failed';

export interface LoadedInfo {
  contextSize: number;
  parallel: number;
  gpuLayers: number | null;
  memoryBytes: number;
  loadedAt: string;
  lastUsedAt: string;
  inflight: number;
  queued: number;
  tokensPerSecond: number | null;
}

export interface ModelEntry {
  id: string;
  path: string;
  sizeBytes: number;
  architecture: string | null;
  parameters: number | null;
  quantization: string | null;
  trainedContext: number | null;
  state: ModelState;
  error: string | null;
  loaded: LoadedInfo | null;
}

export type DownloadState = 'running' | 'done' | 'failed' | 'cancelled';

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

export interface LoadOptions {
  contextSize?: number;
  parallel?: number;
  gpuLayers?: number;
}

/** The config as GET /admin/config shows it: secrets replaced by "[set]" or null. */
export interface ServerConfig {
  port: number;
  lan: boolean;
  apiKey?: string | null;
  adminKey?: string | null;
  queue: { maxQueued: number; timeoutMs: number };
  rateLimit: { inferencePerMinute: number; adminPerMinute: number; exemptLoopback: boolean };
  models: { ttlSeconds: number };
}

export interface ConfigResponse {
  config: ServerConfig;
  restartRequired: string[];
}

/** A partial config for PUT /admin/config; nested objects may be partial too. */
export type ConfigPatch = {
  [K in keyof ServerConfig]?: ServerConfig[K] extends object ? Partial<ServerConfig[K]> : ServerConfig[K];
};

export type AlertSeverity = 'info' | 'warning' | 'critical';
export type AlertKind =
  'thermal' | 'memory' | 'shedding' | 'breaker' | 'safe_mode' | 'download' | 'crash_loop';

export interface Alert {
  id: string;
  severity: AlertSeverity;
  kind: AlertKind;
  message: string;
  at: string;
}

export interface Stats {
  tokensPerSecond: number;
  ttftMs: number | null;
  inflight: number;
  queued: number;
  at: string;
}

/** Every message of GET /admin/events, keyed by its `event:` name. */
export interface ServerEvents {
  model: { id: string; state: ModelState; error: string | null };
  download: DownloadJob;
  health: { status: HealthStatus };
  state: { status: ServerStatus; reason: string | null };
  alert: Alert;
  stats: Stats;
}

export type ServerEvent = {
  [K in keyof ServerEvents]: { type: K; data: ServerEvents[K] };
}[keyof ServerEvents];

/** OpenAI's error body, which every error of the server has. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

// The admin API as the UI sees it. The wire types live in shared/admin-api.ts, shared with the server
// (types only: the renderer never imports server code); the rest here is the UI's own view of them.

export type {
  Alert,
  ClusterView,
  PeerNode,
  AlertKind,
  AlertSeverity,
  DownloadJob,
  DownloadState,
  HealthComponent,
  HealthReport,
  HealthStatus,
  LoadOptions,
  LoadedModelView as LoadedInfo,
  ModelEntry,
  ModelState,
  OpenAiErrorBody,
  ServerEvents,
  ServerState,
  ServerStatus,
  Stats,
} from '../../shared/admin-api.ts';
import type { ServerEvents } from '../../shared/admin-api.ts';

/** The config as GET /admin/config shows it: secrets replaced by "[set]" or null. */
export interface ServerConfig {
  port: number;
  lan: boolean;
  apiKey?: string | null;
  adminKey?: string | null;
  queue: { maxQueued: number; timeoutMs: number };
  rateLimit: { inferencePerMinute: number; adminPerMinute: number; exemptLoopback: boolean };
  models: { ttlSeconds: number };
  /** Helper nodes (edited in config.json or with PUT /admin/config; a key shows as "[set]"). */
  helpers: { name: string; url: string }[];
  helperBreaker: { failureThreshold: number; resetTimeoutMs: number };
}

export interface ConfigResponse {
  config: ServerConfig;
  restartRequired: string[];
}

/** A partial config for PUT /admin/config; nested objects may be partial too. */
export type ConfigPatch = {
  [K in keyof ServerConfig]?: ServerConfig[K] extends object ? Partial<ServerConfig[K]> : ServerConfig[K];
};

export type ServerEvent = {
  [K in keyof ServerEvents]: { type: K; data: ServerEvents[K] };
}[keyof ServerEvents];

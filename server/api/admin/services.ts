import type { DownloadManager } from '../../engine/downloads.ts';
import type { ModelManager } from '../../engine/model-manager.ts';
import type { ConfigStore } from '../../state/config-store.ts';
import type { EventBus } from '../../state/events.ts';

/** GET /admin/state (see the admin contract). */
export interface AdminStateBody {
  status: string;
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

/** What the model-library, downloads, events, state and config admin routes need. */
export interface AdminModelServices {
  models: ModelManager;
  downloads: DownloadManager;
  events: EventBus;
  configStore: ConfigStore;
  state(): AdminStateBody;
  exitSafeMode(): Promise<void>;
}

import type { ServerState } from '../../../shared/admin-api.ts';
import type { DownloadManager } from '../../models/downloads.ts';
import type { ModelManager } from '../../models/model-manager.ts';
import type { ConfigStore } from '../../config/live-config.ts';
import type { EventBus } from '../../runtime/events.ts';

/** GET /admin/state */
export type AdminStateBody = ServerState;

/** What the model-library, downloads, events, state and config admin routes need. */
export interface AdminModelServices {
  models: ModelManager;
  downloads: DownloadManager;
  events: EventBus;
  configStore: ConfigStore;
  state(): AdminStateBody;
  exitSafeMode(): Promise<void>;
}

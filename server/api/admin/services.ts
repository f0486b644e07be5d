import type { ServerState } from '../../../shared/admin-api.ts';
import type { LiveConfig } from '../../config/live-config.ts';
import type { DownloadManager } from '../../models/downloads.ts';
import type { ModelManager } from '../../models/model-manager.ts';
import type { EventBus } from '../../runtime/events.ts';

/** What the model-library, downloads, events, state and config admin routes need. */
export interface AdminModelServices {
  models: ModelManager;
  downloads: DownloadManager;
  events: EventBus;
  liveConfig: LiveConfig;
  state(): ServerState;
  exitSafeMode(): Promise<void>;
}

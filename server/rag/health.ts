import type { HealthCheck } from '../telemetry/health.ts';
import type { RagStore } from './rag-store.ts';
import type { OpenOnFirstUse } from '../persistence/open-on-first-use.ts';

/**
 * The RAG store as a deep-health component: collections, documents, chunks, size on disk, last write.
 * A store no request has used yet is reported as not open rather than opened by the check: the app's
 * dashboard reads deep health after every model change, and opening loads LanceDB (about 45 MB). A store
 * whose last open failed is down until an open succeeds.
 */
export function ragHealthCheck(store: OpenOnFirstUse<RagStore>): HealthCheck {
  return {
    name: 'rag',
    run: async () => {
      if (!store.opened) {
        const failure = store.lastFailure;
        return failure
          ? { status: 'down', details: { opened: false, error: failure.message } }
          : { status: 'ok', details: { opened: false } };
      }
      const opened = await store.open();
      return {
        status: 'ok',
        details: { opened: true, directory: opened.directory, ...(await opened.status()) },
      };
    },
  };
}

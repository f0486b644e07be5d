import type { HealthCheck } from '../telemetry/health.ts';
import type { RagStore } from './rag-store.ts';

/** The RAG store as a deep-health component: collections, documents, chunks, size on disk, last write. */
export function ragHealthCheck(store: RagStore): HealthCheck {
  return {
    name: 'rag',
    run: async () => ({ status: 'ok', details: { directory: store.directory, ...(await store.status()) } }),
  };
}

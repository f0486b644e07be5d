/** Where the server is in its life, as readiness and the admin API report it. */
export type Phase = 'starting' | 'serving' | 'draining' | 'stopped';

export type NotReadyReason = 'starting' | 'no_model_loaded' | 'loading' | 'draining' | 'safe_mode';

export type Readiness = { ready: true } | { ready: false; reason: NotReadyReason };

export interface ModelCounts {
  loaded: number;
  loading: number;
}

export class Lifecycle {
  phase: Phase = 'starting';
  /** True while the models named at start (flags, autoload) are coming back. */
  restoring = false;
  safeMode: { reason: string } | undefined;

  readiness(models: ModelCounts): Readiness {
    if (this.phase === 'starting') return { ready: false, reason: 'starting' };
    if (this.phase !== 'serving') return { ready: false, reason: 'draining' };
    if (this.safeMode) return { ready: false, reason: 'safe_mode' };
    if (this.restoring) return { ready: false, reason: 'loading' };
    if (models.loaded > 0) return { ready: true };
    return { ready: false, reason: models.loading > 0 ? 'loading' : 'no_model_loaded' };
  }
}

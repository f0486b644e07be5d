import type { ModelManager } from '../models/model-manager.ts';
import type { EventBus } from '../runtime/events.ts';

const STATS_INTERVAL_MS = 2_000;

/** The dashboard's live feed: tokens/s, TTFT and queue figures on /admin/events every couple of seconds. */
export function startLiveStats(models: ModelManager, events: EventBus): { stop(): void } {
  let lastTokens = 0;
  const timer = setInterval(() => {
    models.sampleThroughput();
    const activity = models.activity();
    const tokens = activity.generatedTokens - lastTokens;
    lastTokens = activity.generatedTokens;
    events.publish('stats', {
      tokensPerSecond: Math.max(0, (tokens * 1000) / STATS_INTERVAL_MS),
      ttftMs: models.takeRecentTtftMs(),
      inflight: activity.inflight,
      queued: activity.queued,
      at: new Date().toISOString(),
    });
  }, STATS_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

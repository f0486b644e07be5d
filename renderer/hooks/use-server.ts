import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ConnectionState, LmxClient } from '../api/client.ts';
import type {
  Alert,
  DownloadJob,
  HealthReport,
  ModelEntry,
  ServerEvent,
  ServerState,
  Stats,
} from '../api/types.ts';
import { describeError } from '../format.ts';

/** How many stats samples (one every 2 s) the chart keeps: two minutes. */
export const STATS_HISTORY = 60;
/** Loaded-model figures (tokens/s, in-flight) are refreshed at most this often while traffic changes. */
const MODEL_REFRESH_MS = 5000;

export interface Loadable<T> {
  value: T | undefined;
  error: string | undefined;
}

export interface ServerView {
  connection: ConnectionState;
  state: Loadable<ServerState>;
  models: Loadable<ModelEntry[]>;
  downloads: DownloadJob[];
  health: Loadable<HealthReport>;
  alerts: Alert[];
  stats: Stats[];
  refreshModels(): Promise<void>;
  refreshHealth(): Promise<void>;
  refreshState(): Promise<void>;
  dismissAlert(id: string): void;
}

const empty = <T>(): Loadable<T> => ({ value: undefined, error: undefined });

/** Adds or replaces an entry by id, keeping the list newest first. */
export function upsertById<T extends { id: string }>(list: readonly T[], item: T): T[] {
  return [item, ...list.filter((existing) => existing.id !== item.id)];
}

/** Alerts newest first, without duplicates and without the dismissed ones. */
export function visibleAlerts(alerts: readonly Alert[], dismissed: ReadonlySet<string>): Alert[] {
  const seen = new Set<string>();
  return [...alerts]
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
    .filter((alert) => !dismissed.has(alert.id) && !seen.has(alert.id) && seen.add(alert.id));
}

/**
 * Everything the screens show, loaded once and then kept current by the /admin/events feed (few
 * requests: the admin API is rate limited).
 */
export function useServer(client: LmxClient, onUnauthorized: () => void): ServerView {
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const [state, setState] = useState<Loadable<ServerState>>(empty);
  const [models, setModels] = useState<Loadable<ModelEntry[]>>(empty);
  const [downloads, setDownloads] = useState<DownloadJob[]>([]);
  const [health, setHealth] = useState<Loadable<HealthReport>>(empty);
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [dismissed, setDismissed] = useState<ReadonlySet<string>>(new Set());
  const [stats, setStats] = useState<Stats[]>([]);
  const lastModelRefresh = useRef(0);
  const unauthorized = useRef(onUnauthorized);
  unauthorized.current = onUnauthorized;

  const load = useCallback(
    async <T>(fetcher: () => Promise<T>, set: (value: Loadable<T>) => void, keep?: T) => {
      try {
        set({ value: await fetcher(), error: undefined });
      } catch (error) {
        if ((error as { status?: number }).status === 401) unauthorized.current();
        set({ value: keep, error: describeError(error) });
      }
    },
    [],
  );

  const refreshModels = useCallback(async () => {
    lastModelRefresh.current = Date.now();
    await load(client.models, (next) =>
      setModels((previous) => ({ ...next, value: next.value ?? previous.value })),
    );
  }, [client, load]);
  const refreshHealth = useCallback(
    () =>
      load(client.health, (next) =>
        setHealth((previous) => ({ ...next, value: next.value ?? previous.value })),
      ),
    [client, load],
  );
  const refreshState = useCallback(
    () =>
      load(client.state, (next) =>
        setState((previous) => ({ ...next, value: next.value ?? previous.value })),
      ),
    [client, load],
  );

  const onEvent = useCallback(
    (event: ServerEvent) => {
      switch (event.type) {
        case 'model':
          setModels((previous) => ({
            ...previous,
            value: previous.value?.map((model) =>
              model.id === event.data.id
                ? { ...model, state: event.data.state, error: event.data.error }
                : model,
            ),
          }));
          // The event carries the state only; memory, context and the rest come with the full entry.
          void refreshModels();
          // Readiness follows the loaded models; refresh it rather than wait for a state event.
          if (event.data.state !== 'loading' && event.data.state !== 'unloading') {
            void refreshState();
            // Each loaded model is a health component of its own.
            void refreshHealth();
          }
          break;
        case 'download':
          setDownloads((previous) => {
            const index = previous.findIndex((job) => job.id === event.data.id);
            if (index === -1) return [event.data, ...previous];
            return previous.map((job) => (job.id === event.data.id ? event.data : job));
          });
          if (event.data.state === 'done') void refreshModels();
          break;
        case 'health':
          void refreshHealth();
          break;
        case 'state':
          setState((previous) =>
            previous.value
              ? {
                  ...previous,
                  value: { ...previous.value, status: event.data.status, reason: event.data.reason },
                }
              : previous,
          );
          // Safe mode, LAN and endpoints may have changed with it.
          void refreshState();
          break;
        case 'alert':
          setAlerts((previous) => upsertById(previous, event.data));
          // A helper's circuit changed: its health component says how.
          if (event.data.kind === 'breaker') void refreshHealth();
          break;
        case 'stats':
          setStats((previous) => [...previous, event.data].slice(-STATS_HISTORY));
          if (
            (event.data.inflight > 0 || event.data.queued > 0) &&
            Date.now() - lastModelRefresh.current > MODEL_REFRESH_MS
          ) {
            void refreshModels();
          }
          break;
      }
    },
    [refreshModels, refreshHealth, refreshState],
  );

  useEffect(() => {
    void refreshState();
    void refreshModels();
    void refreshHealth();
    void load(client.downloads, (next) => {
      if (next.value) setDownloads(next.value);
    });
    return client.subscribe({
      onEvent,
      onConnection: (next) => {
        setConnection(next);
        if (next === 'unauthorized') unauthorized.current();
      },
    });
  }, [client, load, onEvent, refreshHealth, refreshModels, refreshState]);

  const safeMode = state.value?.safeMode;
  const shownAlerts = useMemo(() => {
    const all = [...alerts];
    // Safe mode is shown even when its alert was raised before this window opened.
    if (safeMode?.active && !all.some((alert) => alert.kind === 'safe_mode')) {
      all.push({
        id: 'safe-mode',
        kind: 'safe_mode',
        severity: 'critical',
        message: `Safe mode is on${safeMode.reason ? `: ${safeMode.reason}` : ''}. Models are not loaded automatically.`,
        at: new Date(0).toISOString(),
      });
    }
    return visibleAlerts(all, dismissed);
  }, [alerts, dismissed, safeMode?.active, safeMode?.reason]);

  const dismissAlert = useCallback((id: string) => setDismissed((previous) => new Set(previous).add(id)), []);

  return {
    connection,
    state,
    models,
    downloads,
    health,
    alerts: shownAlerts,
    stats,
    refreshModels,
    refreshHealth,
    refreshState,
    dismissAlert,
  };
}

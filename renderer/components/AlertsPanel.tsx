import { useState } from 'react';
import type { LmxClient } from '../api/client.ts';
import type { Alert } from '../api/types.ts';
import { describeError, formatTime } from '../format.ts';
import { ErrorText, Panel } from './Panel.tsx';

const KIND_TITLE: Record<Alert['kind'], string> = {
  thermal: 'Mac is hot',
  memory: 'Memory pressure',
  shedding: 'Turning requests away',
  breaker: 'Circuit breaker open',
  safe_mode: 'Safe mode',
  download: 'Download problem',
  crash_loop: 'Repeated crashes',
  start_failed: 'The server cannot start',
  model_crash: 'A model crashed the server',
  disk: 'Disk full or read-only',
};

/** Alerts newest first; each can be dismissed; safe mode can be left from here. */
export function AlertsPanel({
  client,
  alerts,
  onDismiss,
  onSafeModeExited,
}: {
  client: LmxClient;
  alerts: Alert[];
  onDismiss(id: string): void;
  onSafeModeExited(): void;
}) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const exitSafeMode = async (alert: Alert) => {
    setBusy(true);
    setError(undefined);
    try {
      await client.exitSafeMode();
      onDismiss(alert.id);
      onSafeModeExited();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel id="alerts" title="Alerts">
      <ErrorText>{error}</ErrorText>
      {alerts.length === 0 ? (
        <p className="muted">No alerts. All is well.</p>
      ) : (
        <ul className="alert-list" aria-label="Alerts, newest first">
          {alerts.map((alert) => (
            <li key={alert.id} className={`alert severity-${alert.severity}`} data-kind={alert.kind}>
              <div className="alert-head">
                <strong>{KIND_TITLE[alert.kind] ?? alert.kind}</strong>
                {Date.parse(alert.at) > 0 && (
                  <time className="muted small-text" dateTime={alert.at}>
                    {formatTime(alert.at)}
                  </time>
                )}
              </div>
              <p>{alert.message}</p>
              <div className="actions">
                {alert.kind === 'safe_mode' && (
                  <button
                    type="button"
                    className="button primary"
                    disabled={busy}
                    onClick={() => void exitSafeMode(alert)}
                  >
                    Exit safe mode
                  </button>
                )}
                <button
                  type="button"
                  className="button quiet"
                  onClick={() => onDismiss(alert.id)}
                  aria-label={`Dismiss alert: ${KIND_TITLE[alert.kind] ?? alert.kind}`}
                >
                  Dismiss
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
    </Panel>
  );
}

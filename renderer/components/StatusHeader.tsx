import { useState } from 'react';
import type { ConnectionState, LmxClient } from '../api/client.ts';
import type { ServerState, ServerStatus } from '../api/types.ts';
import { describeError } from '../format.ts';
import type { Loadable } from '../hooks/use-server.ts';
import { CopyButton } from './CopyButton.tsx';
import { Switch } from './Switch.tsx';

type ShownStatus = ServerStatus | 'stopped' | 'connecting';

const STATUS_TEXT: Record<ShownStatus, { label: string; tone: 'ok' | 'degraded' | 'down' | 'idle' }> = {
  ready: { label: 'Ready', tone: 'ok' },
  starting: { label: 'Starting', tone: 'degraded' },
  loading: { label: 'Loading a model', tone: 'degraded' },
  no_model_loaded: { label: 'No model loaded', tone: 'idle' },
  draining: { label: 'Draining', tone: 'degraded' },
  safe_mode: { label: 'Safe mode', tone: 'down' },
  stopped: { label: 'Stopped', tone: 'down' },
  connecting: { label: 'Connecting…', tone: 'idle' },
};

const REASON_TEXT: Record<string, string> = {
  no_model_loaded: 'Load a model to start serving.',
  loading: 'A model is loading.',
  starting: 'The server is starting.',
  draining: 'Finishing requests before stopping.',
};

/** What the header shows: the server's own status while the feed is up, "stopped" once it is gone. */
export function shownStatus(state: ServerState | undefined, connection: ConnectionState): ShownStatus {
  if (connection === 'reconnecting' && state) return 'stopped';
  if (!state) return connection === 'reconnecting' ? 'stopped' : 'connecting';
  return state.status;
}

export function StatusHeader({
  client,
  state,
  connection,
  onStateChanged,
}: {
  client: LmxClient;
  state: Loadable<ServerState>;
  connection: ConnectionState;
  onStateChanged(): void;
}) {
  const [lanNote, setLanNote] = useState<string>();
  const [busy, setBusy] = useState(false);
  const server = state.value;
  const status = shownStatus(server, connection);
  const { label, tone } = STATUS_TEXT[status];
  const reason =
    status === 'stopped'
      ? 'The server is not answering. Reconnecting…'
      : server?.reason
        ? (REASON_TEXT[server.reason] ?? server.reason)
        : undefined;

  const toggleLan = async (lan: boolean) => {
    setBusy(true);
    try {
      const { restartRequired } = await client.updateConfig({ lan });
      setLanNote(
        restartRequired.includes('lan')
          ? `Network sharing turns ${lan ? 'on' : 'off'} after LMX restarts.`
          : undefined,
      );
      onStateChanged();
    } catch (error) {
      setLanNote(describeError(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <header className="status-header">
      <div className="status-line">
        <span className={`status-dot status-${tone}`} aria-hidden="true" />
        <div className="status-text" role="status" aria-live="polite">
          <strong>{label}</strong>
          {reason && <span className="muted"> — {reason}</span>}
        </div>
        {server && <span className="muted version">v{server.version}</span>}
      </div>
      {state.error && !server && <p className="error-text">{state.error}</p>}
      {server && (
        <dl className="endpoints">
          <Endpoint label="This Mac" url={server.endpoints.local} />
          {server.lan && server.endpoints.lan && <Endpoint label="Network" url={server.endpoints.lan} />}
          <div className="endpoint">
            <dt id="lan-label">Share on network</dt>
            <dd>
              <Switch
                checked={server.lan}
                label="Share on the local network"
                onChange={(next) => void toggleLan(next)}
                disabled={busy}
                describedBy={lanNote ? 'lan-note' : undefined}
              />
            </dd>
          </div>
        </dl>
      )}
      {lanNote && (
        <p id="lan-note" className="note" role="status">
          {lanNote}
        </p>
      )}
    </header>
  );
}

function Endpoint({ label, url }: { label: string; url: string }) {
  return (
    <div className="endpoint">
      <dt>{label}</dt>
      <dd>
        <code className="url">{url}</code>
        <CopyButton
          value={url}
          label={`Copy the ${label === 'This Mac' ? 'local' : 'network'} endpoint URL`}
        />
      </dd>
    </div>
  );
}

import { useEffect, useState } from 'react';
import type { LmxClient } from '../api/client.ts';
import type { PeerNode } from '../api/types.ts';
import { describeError } from '../format.ts';
import { ErrorText, Panel } from './Panel.tsx';

/** How often the pool view is read again (the server reads every peer each time). */
export const CLUSTER_REFRESH_MS = 5000;

/** The other nodes of the pool (the server's cluster.peers); nothing at all when none are configured. */
export function ClusterPanel({ client }: { client: LmxClient }) {
  const [peers, setPeers] = useState<PeerNode[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    let stopped = false;
    const read = async () => {
      try {
        const view = await client.cluster();
        if (stopped) return;
        setPeers(view.peers);
        setError(undefined);
      } catch (caught) {
        if (!stopped) setError(describeError(caught));
      }
    };
    void read();
    const timer = setInterval(() => void read(), CLUSTER_REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [client]);

  if (!error && (!peers || peers.length === 0)) return null;
  return (
    <Panel id="cluster" title="Pool">
      <ErrorText>{error}</ErrorText>
      <ul className="peers">
        {peers?.map((peer) => (
          <PeerRow key={peer.url} peer={peer} />
        ))}
      </ul>
    </Panel>
  );
}

export function peerStatusLabel(peer: PeerNode): string {
  if (!peer.reachable) return 'unreachable';
  if (peer.ready) return 'ready';
  return (peer.reason ?? 'not ready').replaceAll('_', ' ');
}

function PeerRow({ peer }: { peer: PeerNode }) {
  const state = !peer.reachable ? 'failed' : peer.ready ? 'loaded' : 'loading';
  return (
    <li className="model" aria-label={peer.url}>
      <div className="model-head">
        <span className="model-name">{new URL(peer.url).host}</span>
        <span className={`badge state-${state}`}>{peerStatusLabel(peer)}</span>
      </div>
      {peer.reachable && (
        <dl className="figures">
          <div>
            <dt>Models</dt>
            <dd>{peer.models.length > 0 ? peer.models.join(', ') : 'none'}</dd>
          </div>
          <div>
            <dt>Running</dt>
            <dd>{peer.inflight}</dd>
          </div>
          <div>
            <dt>Queued</dt>
            <dd>{peer.queued}</dd>
          </div>
          <div>
            <dt>Speed</dt>
            <dd>{peer.tokensPerSecond == null ? '—' : `${peer.tokensPerSecond.toFixed(1)} tok/s`}</dd>
          </div>
        </dl>
      )}
    </li>
  );
}

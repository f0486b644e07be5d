import type { PeerNode } from '../../shared/admin-api.ts';
import { readNodeStatus, type NodeStatus } from './node-status.ts';

/**
 * Reads the configured peers for the dashboard, all at once and each bounded, so one slow or dead node
 * never holds up the view. Keeps each peer's previous reading to turn the token counter into tokens/s.
 */
export class PeerReader {
  readonly #previous = new Map<string, NodeStatus>();

  constructor(
    private readonly peers: readonly string[],
    private readonly timeoutMs = 2000,
  ) {}

  async read(): Promise<PeerNode[]> {
    return Promise.all(
      this.peers.map(async (url) => {
        const status = await readNodeStatus(url, this.timeoutMs);
        const previous = this.#previous.get(url);
        if (status.reachable) this.#previous.set(url, status);
        const { generatedTokens: _tokens, readAt: _at, ...view } = status;
        return {
          ...view,
          tokensPerSecond: tokensPerSecond(previous, status),
        };
      }),
    );
  }
}

function tokensPerSecond(previous: NodeStatus | undefined, current: NodeStatus): number | null {
  if (!previous || !current.reachable || current.readAt <= previous.readAt) return null;
  // A restarted node's counter starts again from zero.
  const tokens = current.generatedTokens - previous.generatedTokens;
  if (tokens < 0) return null;
  return (tokens * 1000) / (current.readAt - previous.readAt);
}

import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { readNodeStatus, type NodeStatus } from '../server/cluster/node-status.ts';
import type { Cluster, ClusterNode } from './cluster-config.ts';

export interface RollingRestartOptions {
  /** How long one node may take to drain, restart and be ready again with its models. */
  nodeTimeoutMs: number;
  pollMs?: number;
  log: (line: string) => void;
}

export class RollingRestartError extends Error {
  override readonly name = 'RollingRestartError';
}

/**
 * Restarts the nodes one at a time, so the pool never loses more than one node's capacity: every node
 * must be ready before anything starts; then, per node, its restart command (SIGTERM: the node reports
 * not-ready, the front door stops sending, in-flight streams finish, it exits and its supervisor starts
 * it again), a wait until it is ready again with the same models, and a wait for the front door's health
 * checks to have put it back before the next node goes.
 */
export async function rollingRestart(cluster: Cluster, options: RollingRestartOptions): Promise<void> {
  const missing = cluster.nodes.filter((node) => !node.restart).map((node) => node.name);
  if (missing.length > 0) {
    throw new RollingRestartError(`no restart command for ${missing.join(', ')} in the cluster file`);
  }
  const statuses = await Promise.all(cluster.nodes.map((node) => readNodeStatus(node.url)));
  const notReady = statuses.filter((status) => !status.ready);
  if (notReady.length > 0) {
    throw new RollingRestartError(
      `not every node is ready, so restarting one would leave too little capacity: ${notReady
        .map((status) => `${status.url} (${status.reason})`)
        .join(', ')}`,
    );
  }
  const { checkIntervalMs, rise } = cluster.frontDoor;
  const rejoinMs = checkIntervalMs * (rise + 1);
  for (const [index, node] of cluster.nodes.entries()) {
    const before = statuses[index] as NodeStatus;
    options.log(`${node.name}: restarting (models: ${before.models.join(', ') || 'none'})`);
    await runRestartCommand(node);
    await waitFor(node, options, 'to start draining', (status) => !status.ready);
    const back = await waitFor(
      node,
      options,
      `to be ready again with ${before.models.join(', ')}`,
      (status) => status.ready && before.models.every((model) => status.models.includes(model)),
    );
    options.log(`${node.name}: ready again (models: ${back.models.join(', ') || 'none'})`);
    // The front door needs `rise` good checks before it sends to the node again.
    await sleep(rejoinMs);
  }
  options.log(`all ${cluster.nodes.length} nodes restarted`);
}

async function waitFor(
  node: ClusterNode,
  options: RollingRestartOptions,
  what: string,
  done: (status: NodeStatus) => boolean,
): Promise<NodeStatus> {
  const deadline = Date.now() + options.nodeTimeoutMs;
  let last: NodeStatus | undefined;
  while (Date.now() < deadline) {
    last = await readNodeStatus(node.url);
    if (done(last)) return last;
    await sleep(options.pollMs ?? 100);
  }
  throw new RollingRestartError(
    `${node.name} did not come ${what} within ${options.nodeTimeoutMs} ms (last: ${
      last?.ready ? 'ready' : (last?.reason ?? 'no answer')
    }); the remaining nodes were not restarted`,
  );
}

function runRestartCommand(node: ClusterNode): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(node.restart as string, {
      shell: true,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, LMX_NODE_NAME: node.name, LMX_NODE_URL: node.url },
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new RollingRestartError(
            `${node.name}: the restart command failed (${signal ?? `exit code ${code}`}): ${node.restart}`,
          ),
        );
    });
  });
}

import client from 'prom-client';
import type { EventBus } from '../runtime/events.ts';
import type { HealthCheck } from '../telemetry/health.ts';
import {
  circuitStateValue,
  HelperNode,
  type BreakerSettings,
  type CircuitState,
  type HelperRole,
  type HelperSettings,
} from './helper-node.ts';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The configured helper nodes, each behind its own breaker; their state in /metrics (registered on the
 * server's registry), on /admin/events (alerts of kind `breaker`) and in deep health.
 */
export class HelperPool {
  readonly nodes: readonly HelperNode[];

  constructor(
    helpers: readonly HelperSettings[],
    breaker: BreakerSettings,
    events: EventBus,
    registry: client.Registry,
  ) {
    const registers = [registry];
    const nodes: HelperNode[] = [];
    new client.Gauge({
      name: 'lmx_helper_circuit_state',
      help: 'Circuit breaker of each helper node: 0 closed, 1 half-open, 2 open.',
      labelNames: ['helper'] as const,
      registers,
      collect() {
        for (const node of nodes) this.set({ helper: node.name }, circuitStateValue[node.state]);
      },
    });
    const requests = new client.Counter({
      name: 'lmx_helper_requests_total',
      help: 'Calls to helper nodes by outcome: success, error, timeout, refused (4xx), rejected (breaker open).',
      labelNames: ['helper', 'outcome'] as const,
      registers,
    });
    const duration = new client.Histogram({
      name: 'lmx_helper_request_duration_seconds',
      help: 'Time of calls to helper nodes that reached them.',
      labelNames: ['helper'] as const,
      buckets: latencyBuckets,
      registers,
    });
    const observer = {
      onStateChange(node: HelperNode, state: CircuitState) {
        const severity = state === 'open' ? 'warning' : 'info';
        events.alert(
          'breaker',
          severity,
          `Helper ${node.name} (${node.settings.url}): circuit ${state.replace('_', '-')}.`,
        );
      },
      onCall(node: HelperNode, outcome: string, seconds: number) {
        requests.inc({ helper: node.name, outcome });
        if (outcome !== 'rejected') duration.observe({ helper: node.name }, seconds);
      },
    };
    for (const settings of helpers) nodes.push(new HelperNode(settings, breaker, observer));
    this.nodes = nodes;
  }

  /** The helpers that take this call, least outstanding calls first (open breakers last: they fail fast). */
  candidates(role: HelperRole, model: string, loadedLocally: boolean): HelperNode[] {
    return this.nodes
      .filter((node) => node.serves(role, model, loadedLocally))
      .sort((a, b) => Number(b.accepting) - Number(a.accepting) || a.outstanding - b.outstanding);
  }

  healthChecks(): HealthCheck[] {
    return this.nodes.map((node) => ({
      name: `helper:${node.name}`,
      run: async () => ({
        status: node.state === 'closed' ? 'ok' : 'degraded',
        details: {
          url: node.settings.url,
          roles: node.settings.roles,
          models: node.settings.models ?? null,
          circuit: node.state,
          outstanding: node.outstanding,
        },
      }),
    }));
  }

  shutdown(): void {
    for (const node of this.nodes) node.shutdown();
  }
}

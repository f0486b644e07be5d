import client from 'prom-client';
import type { EventBus } from '../runtime/events.ts';
import type { HealthCheck } from '../telemetry/health.ts';
import {
  circuitStateValue,
  HelperNode,
  type BreakerSettings,
  type CircuitState,
  type HelperObserver,
  type HelperRole,
  type HelperSettings,
} from './helper-node.ts';

const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The configured helper nodes, each behind its own breaker; their state in /metrics (registered on the
 * server's registry), on /admin/events (alerts of kind `breaker`) and in deep health. The pool owns the
 * list: a config change replaces it (reconfigure) without a restart.
 */
export class HelperPool {
  #nodes: HelperNode[] = [];
  readonly #observer: HelperObserver;

  constructor(
    helpers: readonly HelperSettings[],
    breaker: BreakerSettings,
    events: EventBus,
    registry: client.Registry,
  ) {
    const registers = [registry];
    const circuitState = new client.Gauge({
      name: 'lmx_helper_circuit_state',
      help: 'Circuit breaker of each helper node: 0 closed, 1 half-open, 2 open.',
      labelNames: ['helper'] as const,
      registers,
      collect: () => {
        // A helper taken out of the config leaves the gauge with it.
        circuitState.reset();
        for (const node of this.#nodes)
          circuitState.set({ helper: node.name }, circuitStateValue[node.state]);
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
    this.#observer = {
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
    this.reconfigure(helpers, breaker);
  }

  get nodes(): readonly HelperNode[] {
    return this.#nodes;
  }

  /**
   * Applies new helper and breaker settings: a helper whose settings (and the breaker's) are unchanged
   * keeps its node and breaker state; any other starts closed. Calls under way on a replaced node finish.
   */
  reconfigure(helpers: readonly HelperSettings[], breaker: BreakerSettings): void {
    const kept = new Map(this.#nodes.map((node) => [nodeKey(node.settings, node.breakerSettings), node]));
    const next = helpers.map(
      (settings) =>
        kept.get(nodeKey(settings, breaker)) ?? new HelperNode(settings, { ...breaker }, this.#observer),
    );
    for (const node of this.#nodes) if (!next.includes(node)) node.shutdown();
    this.#nodes = next;
  }

  /** The helpers that take this call, least outstanding calls first (open breakers last: they fail fast). */
  candidates(role: HelperRole, model: string, loadedLocally: boolean): HelperNode[] {
    return this.#nodes
      .filter((node) => node.serves(role, model, loadedLocally))
      .sort((a, b) => Number(b.accepting) - Number(a.accepting) || a.outstanding - b.outstanding);
  }

  healthChecks(): HealthCheck[] {
    return this.#nodes.map((node) => ({
      name: `helper:${node.name}`,
      run: async () => ({
        status: node.state === 'closed' ? 'ok' : 'degraded',
        details: {
          url: node.settings.url,
          roles: node.settings.roles,
          models: node.settings.models ?? null,
          circuit: node.state,
          failures: node.consecutiveFailures,
          failureThreshold: node.breakerSettings.failureThreshold,
          resetTimeoutMs: node.breakerSettings.resetTimeoutMs,
          timeoutMs: node.settings.timeoutMs,
          retryAfterSeconds: node.retryAfterSeconds,
          lastError: node.lastError?.message ?? null,
          lastErrorAt: node.lastError?.at ?? null,
          outstanding: node.outstanding,
        },
      }),
    }));
  }

  shutdown(): void {
    for (const node of this.#nodes) node.shutdown();
  }
}

function nodeKey(settings: HelperSettings, breaker: BreakerSettings): string {
  return JSON.stringify([settings, breaker]);
}

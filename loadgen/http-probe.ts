import autocannon from 'autocannon';

export interface HttpProbeOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  headers?: Record<string, string>;
  connections: number;
  /** Stop after this many requests … */
  amount: number;
  /** … or after this long, whichever comes first. */
  maxDurationMs: number;
  /** Per-request timeout in seconds. */
  timeoutSeconds?: number;
}

export interface HttpProbeResult {
  url: string;
  method: string;
  requests: number;
  /** Responses per HTTP status. */
  statusCounts: Record<string, number>;
  /** Connection errors (timeouts included) and timeouts alone. */
  errors: number;
  timeouts: number;
  latencyMs: { mean: number; p50: number; p90: number; p99: number; max: number };
  durationSeconds: number;
}

/** Plain-HTTP load with autocannon, bounded by a request count and a time limit. */
export function probeHttp(options: HttpProbeOptions): Promise<HttpProbeResult> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method ?? 'GET',
        body: options.body,
        headers: options.headers,
        connections: options.connections,
        amount: options.amount,
        timeout: options.timeoutSeconds ?? 10,
      },
      (error: unknown, result) => {
        clearTimeout(timer);
        if (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        const statusCounts: Record<string, number> = {};
        for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
          statusCounts[status] = stats.count ?? 0;
        }
        const answered = Object.values(statusCounts).reduce((sum, count) => sum + count, 0);
        resolve({
          url: options.url,
          method: options.method ?? 'GET',
          requests: answered,
          statusCounts,
          errors: result.errors,
          timeouts: result.timeouts,
          latencyMs: {
            mean: result.latency.mean,
            p50: result.latency.p50,
            p90: result.latency.p90,
            p99: result.latency.p99,
            max: result.latency.max,
          },
          durationSeconds: result.duration,
        });
      },
    );
    const timer = setTimeout(() => instance.stop(), options.maxDurationMs);
  });
}

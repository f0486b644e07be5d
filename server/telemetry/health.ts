import type { HealthComponent, HealthReport, HealthStatus } from '../../shared/admin-api.ts';

export type { HealthReport, HealthStatus };
export type ComponentHealth = HealthComponent;

/** One subsystem's check: its status and the figures behind it. */
export interface HealthCheck {
  name: string;
  run(): Promise<{ status: HealthStatus; details: Record<string, unknown> }>;
}

const severity: Record<HealthStatus, number> = { ok: 0, degraded: 1, down: 2 };

export function worst(statuses: HealthStatus[]): HealthStatus {
  return statuses.reduce<HealthStatus>(
    (acc, status) => (severity[status] > severity[acc] ? status : acc),
    'ok',
  );
}

/**
 * Runs every check at once; a check that throws or outlasts `timeoutMs` reports `down` instead of
 * holding up the whole report. Overall status is the worst component's.
 */
export async function runHealthChecks(
  checks: readonly HealthCheck[],
  timeoutMs: number,
): Promise<HealthReport> {
  const components = await Promise.all(checks.map((check) => runOne(check, timeoutMs)));
  return { status: worst(components.map((c) => c.status)), checkedAt: new Date().toISOString(), components };
}

async function runOne(check: HealthCheck, timeoutMs: number): Promise<ComponentHealth> {
  const startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`check timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const result = await Promise.race([check.run(), timedOut]);
    return { name: check.name, ...result, latencyMs: elapsed(startedAt) };
  } catch (error) {
    return {
      name: check.name,
      status: 'down',
      latencyMs: elapsed(startedAt),
      details: { error: error instanceof Error ? error.message : String(error) },
    };
  } finally {
    clearTimeout(timer);
  }
}

function elapsed(startedAt: number): number {
  return Math.round((performance.now() - startedAt) * 100) / 100;
}

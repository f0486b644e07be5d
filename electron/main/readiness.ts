export type Readiness =
  { reachable: true; ready: boolean; reason: string | null } | { reachable: false; error: string };

/**
 * Asks the server's /readyz (no auth) — after a wake-up, the app checks what the messages cannot tell:
 * that the server still answers HTTP.
 */
export async function probeReadiness(
  serverUrl: string,
  fetchImpl: typeof fetch = fetch,
  timeoutMs = 5000,
): Promise<Readiness> {
  try {
    const response = await fetchImpl(`${serverUrl}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json().catch(() => ({}))) as { reason?: unknown };
    return {
      reachable: true,
      ready: response.ok,
      reason: response.ok ? null : typeof body.reason === 'string' ? body.reason : `HTTP ${response.status}`,
    };
  } catch (error) {
    return { reachable: false, error: (error as Error).message };
  }
}

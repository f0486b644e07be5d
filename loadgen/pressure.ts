import { probeHttp, type HttpProbeResult } from './http-probe.ts';
import type { BenchPrompt } from './prompts.ts';
import type { Endpoint } from './stream-request.ts';
import { authHeaders, serverRoot, type BenchTarget } from './target.ts';

/** What non-LLM routes did while the admission queue was full. */
export interface PressureProbe {
  target: string;
  /** GET /healthz under full load: liveness must stay fast. */
  healthz: HttpProbeResult;
  /** Extra inference requests while the queue is full: how fast they are refused, and with what. */
  excess: HttpProbeResult;
  /** Whether a 429 had been seen before probing (evidence the queue was really full). */
  queueFullSeen: boolean;
  /** Whether the load was still in flight when the probes ended (else the figures mix in idle time). */
  loadStillRunning: boolean;
}

export interface ProbeSettings {
  target: BenchTarget;
  model: string;
  endpoint: Endpoint;
  prompt: BenchPrompt;
  /** Bound of each probe. */
  maxDurationMs: number;
}

/**
 * Runs the two autocannon probes one after the other (not side by side: each measures one thing).
 * Excess requests first: the queue is full only until the first running request finishes, and the
 * refusal is what needs a full queue most.
 */
export async function probeUnderPressure(
  settings: ProbeSettings,
  state: { queueFullSeen: () => boolean; loadRunning: () => boolean },
): Promise<PressureProbe> {
  const root = serverRoot(settings.target.baseUrl);
  const queueFullSeen = state.queueFullSeen();
  // One output token: should an excess request be admitted after all, it costs next to nothing.
  const body =
    settings.endpoint === 'chat'
      ? { model: settings.model, messages: settings.prompt.messages, max_tokens: 1 }
      : { model: settings.model, prompt: settings.prompt.text, max_tokens: 1 };
  const path = settings.endpoint === 'chat' ? '/chat/completions' : '/completions';
  const excess = await probeHttp({
    url: `${settings.target.baseUrl}${path}`,
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...authHeaders(settings.target) },
    connections: 2,
    amount: 20,
    maxDurationMs: settings.maxDurationMs,
  });
  const healthz = await probeHttp({
    url: `${root}/healthz`,
    connections: 2,
    amount: 200,
    maxDurationMs: settings.maxDurationMs,
  });
  return {
    target: settings.target.label,
    healthz,
    excess,
    queueFullSeen: queueFullSeen || state.queueFullSeen(),
    loadStillRunning: state.loadRunning(),
  };
}

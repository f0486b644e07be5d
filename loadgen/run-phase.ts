import type { RequestRecord } from './types.ts';

/** One stretch of load against one target at one concurrency. */
export interface Phase {
  /** The step this phase belongs to (ramp step, burst round…): figures are split by it. */
  step: string;
  target: string;
  /** closed: keep `concurrency` requests in flight until `requests` have started; burst: all at once. */
  mode: 'closed' | 'burst';
  concurrency: number;
  requests: number;
}

/** Sends request number `index` of a phase; resolves with its record and never rejects. */
export type SendRequest = (phase: Phase, index: number) => Promise<RequestRecord>;

export interface PhaseLimits {
  /** performance.now() after which no new request starts (in-flight ones finish or time out). */
  deadline: number;
  /** Set when the run is cancelled: no new request starts. */
  signal?: AbortSignal;
}

/**
 * Runs one phase. Bounded by count (`requests`) and time (`deadline`); each request is itself bounded
 * by its client timeout, so the phase ends at most one timeout after the deadline.
 */
export async function runPhase(
  phase: Phase,
  send: SendRequest,
  limits: PhaseLimits,
  onRecord: (record: RequestRecord) => void = () => undefined,
): Promise<RequestRecord[]> {
  const records: RequestRecord[] = [];
  const mayStart = () => performance.now() < limits.deadline && !limits.signal?.aborted;
  const sendOne = async (index: number) => {
    const record = await send(phase, index);
    records.push(record);
    onRecord(record);
  };
  if (phase.mode === 'burst') {
    if (mayStart()) await Promise.all(Array.from({ length: phase.requests }, (_, index) => sendOne(index)));
    return records;
  }
  let next = 0;
  const worker = async () => {
    while (next < phase.requests && mayStart()) await sendOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(phase.concurrency, phase.requests) }, worker));
  return records;
}

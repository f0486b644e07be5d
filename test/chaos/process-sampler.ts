// Resident memory and open file descriptors of another process, read from /proc (Linux), sampled on an
// interval; and the least-squares slope of a series, for "flat after warm-up".

import { readdir, readFile } from 'node:fs/promises';

export interface ProcessSample {
  atMs: number;
  rssBytes: number;
  fds: number;
}

/** One reading of `pid`, or undefined where /proc is not there (macOS) or the process is gone. */
export async function sampleProcess(pid: number): Promise<ProcessSample | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1]);
    const fds = (await readdir(`/proc/${pid}/fd`)).length;
    return { atMs: Date.now(), rssBytes: rssKb * 1024, fds };
  } catch {
    return undefined;
  }
}

/** Samples `pid` every `intervalMs` until stopped. */
export class ProcessSampler {
  readonly samples: ProcessSample[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 250) {
    this.#timer = setInterval(() => {
      void sampleProcess(pid).then((sample) => sample && this.samples.push(sample));
    }, intervalMs);
  }

  stop(): ProcessSample[] {
    clearInterval(this.#timer);
    return this.samples;
  }
}

/** Least-squares slope of `value` over time, per minute; 0 for fewer than two samples. */
export function slopePerMinute(
  samples: readonly ProcessSample[],
  value: (s: ProcessSample) => number,
): number {
  if (samples.length < 2) return 0;
  const xs = samples.map((s) => s.atMs / 60_000);
  const ys = samples.map(value);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < xs.length; i++) {
    covariance += (xs[i]! - meanX) * (ys[i]! - meanY);
    variance += (xs[i]! - meanX) ** 2;
  }
  return variance === 0 ? 0 : covariance / variance;
}

import type { RuntimeState } from './runtime-state.ts';

export interface CrashLoopLimits {
  maxStarts: number;
  windowMs: number;
}

export interface StartRecord {
  /** Start times (ISO) that count towards a crash loop, this one included. */
  recentStarts: string[];
  /** The previous run ended without a clean shutdown. */
  previousCrashed: boolean;
  /** Set when this start completes a crash loop: the server must not autoload. */
  safeModeReason: string | undefined;
}

/**
 * Crash-loop detection. Starts count within a sliding window; a clean shutdown ends the streak (a
 * restart the user asked for is not a crash), and so does a clean run of `windowMs` (see the server).
 * `maxStarts` or more counted starts within the window put this start in safe mode.
 */
export function recordStart(
  previous: RuntimeState | undefined,
  now: Date,
  limits: CrashLoopLimits,
): StartRecord {
  const previousCrashed = previous !== undefined && !previous.last_clean_shutdown;
  const earlier = previousCrashed ? previous.recent_starts : [];
  const windowStart = now.getTime() - limits.windowMs;
  const recentStarts = [
    ...earlier.filter((at) => {
      const time = Date.parse(at);
      return Number.isFinite(time) && time >= windowStart && time <= now.getTime();
    }),
    now.toISOString(),
  ];
  const safeModeReason =
    recentStarts.length >= limits.maxStarts
      ? `crash loop: ${recentStarts.length} starts within ${Math.round(limits.windowMs / 1000)} s without a clean shutdown`
      : undefined;
  return { recentStarts, previousCrashed, safeModeReason };
}

import { describe, expect, it } from 'vitest';
import { recordStart } from '../../server/persistence/crash-loop.ts';
import type { RuntimeState } from '../../server/persistence/runtime-state.ts';

const limits = { maxStarts: 3, windowMs: 60_000 };
const now = new Date('2026-01-01T12:00:00.000Z');
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString();
const previous = (clean: boolean, starts: string[]): RuntimeState => ({
  version: 1,
  pid: 1,
  last_clean_shutdown: clean,
  startup_count: starts.length,
  last_startup_at: starts.at(-1) ?? ago(0),
  recent_starts: starts,
  loaded_models: [],
});

describe('recordStart', () => {
  it('a first start counts one and is not safe mode', () => {
    expect(recordStart(undefined, now, limits)).toEqual({
      recentStarts: [now.toISOString()],
      previousCrashed: false,
      safeModeReason: undefined,
    });
  });

  it('the third start within the window after crashes is safe mode', () => {
    const start = recordStart(previous(false, [ago(20), ago(10)]), now, limits);
    expect(start.previousCrashed).toBe(true);
    expect(start.recentStarts).toHaveLength(3);
    expect(start.safeModeReason).toMatch(/crash loop: 3 starts within 60 s/);
  });

  it('starts older than the window do not count', () => {
    const start = recordStart(previous(false, [ago(120), ago(10)]), now, limits);
    expect(start.recentStarts).toHaveLength(2);
    expect(start.safeModeReason).toBeUndefined();
  });

  it('a clean shutdown ends the streak', () => {
    const start = recordStart(previous(true, [ago(20), ago(10)]), now, limits);
    expect(start).toMatchObject({
      recentStarts: [now.toISOString()],
      previousCrashed: false,
      safeModeReason: undefined,
    });
  });

  it('ignores unparseable or future timestamps', () => {
    const start = recordStart(previous(false, ['garbage', ago(-30), ago(5)]), now, limits);
    expect(start.recentStarts).toHaveLength(2);
  });
});

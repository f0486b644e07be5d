import { describe, expect, it } from 'vitest';
import { firstStopIndex, StopStringScanner } from '../../server/engine/stop-strings.ts';

/** Feeds the chunks in order; what was released and whether a stop string was found. */
function scan(stops: string[], chunks: string[]) {
  const scanner = new StopStringScanner(stops);
  const released = chunks.map((chunk) => scanner.push(chunk));
  if (!scanner.found) released.push(scanner.flush());
  return { released, found: scanner.found };
}

describe('StopStringScanner', () => {
  it('finds a stop string with spaces split across chunks and releases only the text before it', () => {
    expect(scan([' Lily'], [', a girl', ' named', ' Li', 'ly', '. She'])).toEqual({
      released: [', a girl', ' named', '', '', ''],
      found: true,
    });
    expect(scan(['d to'], [' She', ' lo', 'ved', ' to', ' play'])).toEqual({
      released: [' She', ' lo', 've', '', ''],
      found: true,
    });
  });

  it('holds back a tail that may start a stop string, and releases it once it cannot', () => {
    expect(scan([' Lily'], ['named', ' L', 'ucy', ' ran'])).toEqual({
      released: ['named', '', ' Lucy', ' ran', ''],
      found: false,
    });
  });

  it('hands over the held-back tail when the text ends without a stop string', () => {
    expect(scan([' Lily'], ['named', ' Li'])).toEqual({ released: ['named', '', ' Li'], found: false });
  });

  it('ends at the earliest stop string, whichever is listed first', () => {
    for (const stops of [
      ['Lily', ' named'],
      [' named', 'Lily'],
    ]) {
      expect(scan(stops, ['a girl named Lily.'])).toEqual({ released: ['a girl'], found: true });
    }
  });

  it('finds a stop string inside one chunk and releases nothing after it', () => {
    const scanner = new StopStringScanner(['\n\n']);
    expect(scanner.push('one\n\ntwo')).toBe('one');
    expect(scanner.push('three')).toBe('');
    expect(scanner.found).toBe(true);
  });

  it('never releases any part of the stop string, whatever the chunking', () => {
    const text = 'abc aab aabx aab aabaab';
    const stop = 'aab aabaab';
    for (let size = 1; size <= 4; size++) {
      const chunks = text.match(new RegExp(`[^]{1,${size}}`, 'g'))!;
      const { released, found } = scan([stop], chunks);
      expect(found).toBe(true);
      expect(released.join('')).toBe(text.slice(0, text.indexOf(stop)));
    }
  });
});

describe('firstStopIndex', () => {
  it('is where the earliest stop string starts, or undefined', () => {
    expect(firstStopIndex('a girl named Lily', ['Lily', ' named'])).toBe(6);
    expect(firstStopIndex('a girl named Lily', ['zzz'])).toBeUndefined();
  });
});

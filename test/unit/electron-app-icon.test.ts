import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng, icnsEntries, makeIcns } from '../../build/make-app-icon.mjs';
import { repoRoot } from '../helpers/server.ts';

/** The entries of an ICNS file: type and payload. */
function readIcns(icns: Buffer): { type: string; data: Buffer }[] {
  expect(icns.toString('ascii', 0, 4)).toBe('icns');
  expect(icns.readUInt32BE(4)).toBe(icns.length);
  const entries: { type: string; data: Buffer }[] = [];
  for (let offset = 8; offset < icns.length;) {
    const length = icns.readUInt32BE(offset + 4);
    entries.push({
      type: icns.toString('ascii', offset, offset + 4),
      data: icns.subarray(offset + 8, offset + length),
    });
    offset += length;
  }
  return entries;
}

describe('app icon', () => {
  const source = readFileSync(path.join(repoRoot, 'build/icon.png'));
  const icns = readFileSync(path.join(repoRoot, 'build/icon.icns'));

  it('build/icon.icns is generated from build/icon.png, as committed', () => {
    expect(makeIcns(source).equals(icns)).toBe(true);
  });

  it('holds every size macOS asks for, 16 to 1024 px, as RGBA PNGs', () => {
    const entries = readIcns(icns);
    expect(entries.map((entry) => entry.type)).toEqual(icnsEntries.map(([type]) => type));
    for (const [index, [type, size]] of icnsEntries.entries()) {
      const image = decodePng(entries[index]!.data);
      expect([image.width, image.height], type).toEqual([size, size]);
      // A rounded square: transparent corner, opaque middle.
      expect(image.rgba[3]).toBe(0);
      const middle = ((size / 2) * size + size / 2) * 4;
      expect(image.rgba[middle + 3]).toBe(255);
    }
  });
});

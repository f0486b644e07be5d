import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/server.ts';

/** Width, height, colour type and RGBA rows of an 8-bit, non-interlaced PNG. */
function decode(file: string) {
  const png = readFileSync(path.join(repoRoot, 'build', file));
  let offset = 8;
  let width = 0;
  let height = 0;
  let colourType = -1;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      colourType = body[9]!;
    }
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const pixel = (x: number, y: number) =>
    raw.subarray(y * (width * 4 + 1) + 1 + x * 4, y * (width * 4 + 1) + 5 + x * 4);
  return { width, height, colourType, pixel };
}

describe('tray template icons', () => {
  it.each([
    ['trayTemplate.png', 18],
    ['trayTemplate@2x.png', 36],
  ])('%s is %i px, black with alpha only (a macOS template image)', (file, size) => {
    const { width, height, colourType, pixel } = decode(file);
    expect([width, height, colourType]).toEqual([size, size, 6]);
    const alphas = new Set<number>();
    let coloured = 0;
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const [r, g, b, a] = pixel(x, y);
        if (r !== 0 || g !== 0 || b !== 0) coloured++;
        alphas.add(a!);
      }
    expect(coloured).toBe(0);
    expect(alphas.has(0) && alphas.has(255)).toBe(true);
  });
});

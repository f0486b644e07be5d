import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng } from '../../build/make-app-icon.mjs';
import { repoRoot } from '../helpers/server.ts';

/** Width, height and pixels of an 8-bit RGBA PNG (decodePng refuses any other kind). */
function decode(file: string) {
  const { width, height, rgba } = decodePng(readFileSync(path.join(repoRoot, 'build', file)));
  const pixel = (x: number, y: number) => rgba.subarray((y * width + x) * 4, (y * width + x) * 4 + 4);
  return { width, height, colourType: 6, pixel };
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

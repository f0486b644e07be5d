#!/usr/bin/env node
// Draws the menu-bar icon as macOS "template" images — black with alpha only, so the system tints it
// for light and dark menu bars — and writes build/trayTemplate.png (18×18) and trayTemplate@2x.png
// (36×36). No image library: the glyph is shapes sampled 4×4 per pixel, encoded by a tiny PNG writer.
// Run: node build/make-tray-icons.mjs
import { Buffer } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Distance from (x, y) to a rounded rectangle's edge (negative inside), in the 18-unit design grid. */
function roundedRect(x, y, left, top, right, bottom, radius) {
  const cx = (left + right) / 2;
  const cy = (top + bottom) / 2;
  const hx = (right - left) / 2 - radius;
  const hy = (bottom - top) / 2 - radius;
  const dx = Math.max(Math.abs(x - cx) - hx, 0);
  const dy = Math.max(Math.abs(y - cy) - hy, 0);
  const inside = Math.min(Math.max(Math.abs(x - cx) - hx, Math.abs(y - cy) - hy), 0);
  return Math.hypot(dx, dy) + inside - radius;
}

/** The glyph: two stacked server units (outlined), each with a status light — a server in the menu bar. */
function covered(x, y) {
  const stroke = 1.4;
  for (const [top, bottom] of [
    [2.5, 8.2],
    [9.8, 15.5],
  ]) {
    const edge = roundedRect(x, y, 2, top, 16, bottom, 1.8);
    if (Math.abs(edge + stroke / 2) <= stroke / 2) return true;
    if (Math.hypot(x - 5.3, y - (top + bottom) / 2) <= 1.15) return true;
    // A vent line on the right of each unit.
    if (x >= 8.5 && x <= 13 && Math.abs(y - (top + bottom) / 2) <= 0.6) return true;
  }
  return false;
}

function render(size) {
  const scale = 18 / size;
  const samples = 4;
  const pixels = Buffer.alloc(size * size * 4); // RGBA, black stays 0
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let hits = 0;
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++)
          if (covered((px + (sx + 0.5) / samples) * scale, (py + (sy + 0.5) / samples) * scale)) hits++;
      pixels[(py * size + px) * 4 + 3] = Math.round((255 * hits) / (samples * samples));
    }
  }
  return encodePng(size, size, pixels);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buffer) {
  let crc = 0xffffffff;
  for (const byte of buffer) crc = crcTable[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGBA PNG: signature, IHDR, one IDAT (each row prefixed with filter 0), IEND. */
export function encodePng(width, height, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type RGBA, deflate, no filter method, no interlace
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++)
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(here, 'make-tray-icons.mjs')) {
  writeFileSync(path.join(here, 'trayTemplate.png'), render(18));
  writeFileSync(path.join(here, 'trayTemplate@2x.png'), render(36));
  process.stdout.write('wrote build/trayTemplate.png and build/trayTemplate@2x.png\n');
}

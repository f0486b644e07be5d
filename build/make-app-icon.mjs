#!/usr/bin/env node
// The app icon: build/icon.icns (Finder, the Dock while a window is open, notifications, Login Items)
// generated from ONE source image, build/icon.png (1024×1024 RGBA; replace it to change the icon).
// Each size is an area-averaged reduction of the source, stored as PNG in the ICNS container (the
// format macOS reads since 10.7). No image library: PNG decoding/encoding by zlib and a few lines.
// Run: node build/make-app-icon.mjs
import { Buffer } from 'node:buffer';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { inflateSync } from 'node:zlib';
import { encodePng } from './make-tray-icons.mjs';

const here = import.meta.dirname;

/** The ICNS entries macOS uses for an app icon: type → pixel size (the @2x ones share the PNG). */
export const icnsEntries = [
  ['icp4', 16],
  ['icp5', 32],
  ['ic11', 32], // 16@2x
  ['icp6', 64],
  ['ic12', 64], // 32@2x
  ['ic07', 128],
  ['ic08', 256],
  ['ic13', 256], // 128@2x
  ['ic09', 512],
  ['ic14', 512], // 256@2x
  ['ic10', 1024], // 512@2x
];

/** An 8-bit RGBA, non-interlaced PNG → { width, height, rgba } (all five row filters). */
export function decodePng(png) {
  let offset = 8;
  let width = 0;
  let height = 0;
  const data = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString('ascii', offset + 4, offset + 8);
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[9] !== 6 || body[12] !== 0)
        throw new Error('the icon source must be an 8-bit RGBA, non-interlaced PNG');
    }
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * 4;
  const rgba = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= 4 ? rgba[y * stride + x - 4] : 0;
      const up = y > 0 ? rgba[(y - 1) * stride + x] : 0;
      const upLeft = x >= 4 && y > 0 ? rgba[(y - 1) * stride + x - 4] : 0;
      const predictor = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][filter];
      rgba[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  return { width, height, rgba };
}

function paeth(a, b, c) {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A square image reduced by an integer factor, each pixel the alpha-weighted mean of its block. */
export function reduce({ width, rgba }, size) {
  const factor = width / size;
  if (!Number.isInteger(factor)) throw new Error(`cannot reduce ${width} px to ${size} px evenly`);
  const out = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const sum = [0, 0, 0, 0];
      for (let dy = 0; dy < factor; dy++)
        for (let dx = 0; dx < factor; dx++) {
          const i = ((y * factor + dy) * width + x * factor + dx) * 4;
          const alpha = rgba[i + 3];
          for (let c = 0; c < 3; c++) sum[c] += rgba[i + c] * alpha;
          sum[3] += alpha;
        }
      const o = (y * size + x) * 4;
      for (let c = 0; c < 3; c++) out[o + c] = sum[3] ? Math.round(sum[c] / sum[3]) : 0;
      out[o + 3] = Math.round(sum[3] / (factor * factor));
    }
  return out;
}

/** The ICNS file for a 1024×1024 source PNG. */
export function makeIcns(sourcePng) {
  const source = decodePng(sourcePng);
  if (source.width !== 1024 || source.height !== 1024)
    throw new Error(`the icon source must be 1024×1024, not ${source.width}×${source.height}`);
  const pngs = new Map();
  const chunks = icnsEntries.map(([type, size]) => {
    if (!pngs.has(size))
      pngs.set(size, size === 1024 ? sourcePng : encodePng(size, size, reduce(source, size)));
    const png = pngs.get(size);
    const header = Buffer.alloc(8);
    header.write(type, 0, 'ascii');
    header.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([header, png]);
  });
  const body = Buffer.concat(chunks);
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(body.length + 8, 4);
  return Buffer.concat([header, body]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(here, 'make-app-icon.mjs')) {
  writeFileSync(path.join(here, 'icon.icns'), makeIcns(readFileSync(path.join(here, 'icon.png'))));
  process.stdout.write('wrote build/icon.icns from build/icon.png\n');
}

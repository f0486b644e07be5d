export const icnsEntries: [type: string, size: number][];
export function decodePng(png: Buffer): { width: number; height: number; rgba: Buffer };
export function reduce(image: { width: number; rgba: Buffer }, size: number): Buffer;
export function makeIcns(sourcePng: Buffer): Buffer;

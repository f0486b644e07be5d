/** Words of equal width, so every document of this kind is cut into the same number of chunks. */
export function equalChunksDocument(seed: number): string {
  return Array.from({ length: 150 }, (_, k) => `w${String((k * 7 + seed) % 90).padStart(2, '0')}`).join(' ');
}

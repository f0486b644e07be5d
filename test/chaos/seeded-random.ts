/** A reproducible stream of numbers in [0, 1) from a seed (a 32-bit linear congruential generator). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => (state = (state * 1_103_515_245 + 12_345) >>> 0) / 2 ** 32;
}

import { expect } from 'vitest';

/**
 * max_tokens as node-llama-cpp honours it: generation stops at the limit, except that a token which
 * starts a multi-byte character is completed by the next one(s) rather than cut into broken text.
 * Random-weight test models emit byte tokens often, so the count may run a few tokens over; the
 * usage always reports the true count.
 */
export function expectStoppedAtMaxTokens(completionTokens: number | undefined, maxTokens: number): void {
  expect(completionTokens).toBeGreaterThanOrEqual(maxTokens);
  expect(completionTokens).toBeLessThanOrEqual(maxTokens + 3);
}

import type { Phase } from './run-phase.ts';

export type ScenarioName = 'sustained' | 'burst' | 'ramp' | 'model-churn' | 'pressure';
export const scenarioNames: readonly ScenarioName[] = [
  'sustained',
  'burst',
  'ramp',
  'model-churn',
  'pressure',
];

export interface ScenarioShape {
  scenario: ScenarioName;
  concurrency: number;
  /** Requests per target (ramp: per step). */
  requests: number;
  /** Target labels: ['A'] or, with --compare, ['A', 'B']. */
  targets: readonly string[];
}

/**
 * The ordered phases of a scenario. With two targets, phases alternate between them in slices
 * (A, B, A, B …) so both see the same machine conditions — drift, thermal state, other load — and each
 * slice runs at the full concurrency against one server only (two servers on one machine would
 * otherwise compete for the same cores).
 */
export function planPhases(shape: ScenarioShape): Phase[] {
  const { concurrency, requests, targets } = shape;
  switch (shape.scenario) {
    case 'sustained':
    case 'model-churn':
      return interleave(targets, sliceSizes(requests, concurrency, targets.length), (target, size) => ({
        step: shape.scenario === 'sustained' ? `c=${concurrency}` : 'churn',
        target,
        mode: 'closed',
        concurrency,
        requests: size,
      }));
    case 'burst': {
      const rounds = Math.max(1, Math.ceil(requests / concurrency));
      return Array.from({ length: rounds }, () =>
        targets.map((target): Phase => ({
          step: `burst ${concurrency}`,
          target,
          mode: 'burst',
          concurrency,
          requests: concurrency,
        })),
      ).flat();
    }
    case 'ramp':
      return rampLevels(concurrency).flatMap((level) =>
        interleave(
          targets,
          sliceSizes(Math.max(requests, 2 * level), level, targets.length),
          (target, size) => ({
            step: `c=${level}`,
            target,
            mode: 'closed',
            concurrency: level,
            requests: size,
          }),
        ),
      );
    case 'pressure':
      // More requests at once than running slots plus queue hold: the excess must be refused.
      return targets.map((target) => ({
        step: 'pressure',
        target,
        mode: 'burst',
        concurrency,
        requests: concurrency,
      }));
  }
}

/** 1, 2, 4 … up to and including `max`. */
export function rampLevels(max: number): number[] {
  const levels: number[] = [];
  for (let level = 1; level < max; level *= 2) levels.push(level);
  levels.push(max);
  return levels;
}

/** Splits `total` requests into slices: one slice alone, or ≥ 2 × concurrency each when alternating. */
function sliceSizes(total: number, concurrency: number, targetCount: number): number[] {
  if (targetCount === 1) return [total];
  const size = Math.min(total, Math.max(2 * concurrency, Math.ceil(total / 4)));
  const sizes: number[] = [];
  for (let left = total; left > 0; left -= size) sizes.push(Math.min(size, left));
  return sizes;
}

function interleave(
  targets: readonly string[],
  sizes: readonly number[],
  make: (target: string, size: number) => Phase,
): Phase[] {
  return sizes.flatMap((size) => targets.map((target) => make(target, size)));
}

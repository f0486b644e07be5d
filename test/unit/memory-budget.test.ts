import { describe, expect, it } from 'vitest';
import { planFit, type BudgetModel } from '../../server/models/memory-budget.ts';

const MB = 1024 ** 2;
const model = (id: string, mb: number, lastUsedAt: number, idle = true): BudgetModel => ({
  id,
  need: { ramBytes: mb * MB, vramBytes: 0 },
  lastUsedAt,
  idle,
});
const unified = (freeMb: number) => ({ freeRamBytes: freeMb * MB, freeVramBytes: undefined });
const need = (mb: number) => ({ ramBytes: mb * MB, vramBytes: 0 });

describe('planFit', () => {
  it('fits without evicting when free memory minus the reserve is enough', () => {
    expect(
      planFit(need(100), [model('a', 50, 1)], unified(1000), { reserveBytes: 500 * MB, budgetBytes: 0 }),
    ).toEqual({
      fits: true,
      evict: [],
    });
  });

  it('evicts idle models least recently used first, only as many as needed', () => {
    const loaded = [model('new', 100, 30), model('old', 100, 10), model('mid', 100, 20)];
    const plan = planFit(need(150), loaded, unified(1000), { reserveBytes: 0, budgetBytes: 400 * MB });
    expect(plan).toEqual({ fits: true, evict: ['old'] });
    const more = planFit(need(250), loaded, unified(1000), { reserveBytes: 0, budgetBytes: 400 * MB });
    expect(more).toEqual({ fits: true, evict: ['old', 'mid'] });
  });

  it('counts evicted models as freed system memory too', () => {
    const plan = planFit(need(300), [model('a', 200, 1), model('b', 200, 2)], unified(200), {
      reserveBytes: 100 * MB,
      budgetBytes: 0,
    });
    expect(plan).toEqual({ fits: true, evict: ['a'] });
  });

  it('never evicts busy models, and refuses when it cannot fit', () => {
    const loaded = [model('busy', 300, 1, false), model('idle', 50, 2)];
    const plan = planFit(need(200), loaded, unified(1000), { reserveBytes: 0, budgetBytes: 400 * MB });
    expect(plan.fits).toBe(false);
    if (plan.fits) return;
    expect(plan.busy).toEqual(['busy']);
    expect(plan.neededBytes).toBe(200 * MB);
    expect(plan.availableBytes).toBe(100 * MB);
  });

  it('refuses a model larger than free memory minus the reserve', () => {
    expect(planFit(need(600), [], unified(1000), { reserveBytes: 500 * MB, budgetBytes: 0 }).fits).toBe(
      false,
    );
  });

  it('checks VRAM separately on a discrete GPU', () => {
    const gpuNeed = { ramBytes: 10 * MB, vramBytes: 500 * MB };
    const available = { freeRamBytes: 10_000 * MB, freeVramBytes: 400 * MB };
    expect(planFit(gpuNeed, [], available, { reserveBytes: 0, budgetBytes: 0 }).fits).toBe(false);
    const loaded = [{ id: 'g', need: { ramBytes: 0, vramBytes: 200 * MB }, lastUsedAt: 1, idle: true }];
    expect(planFit(gpuNeed, loaded, available, { reserveBytes: 0, budgetBytes: 0 })).toEqual({
      fits: true,
      evict: ['g'],
    });
  });
});

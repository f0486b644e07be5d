import { describe, expect, it } from 'vitest';
import { PowerGuard, shouldKeepAwake, type PowerSaveBlockerApi } from '../../electron/main/power-guard.ts';

class Blocker implements PowerSaveBlockerApi {
  readonly active = new Set<number>();
  starts = 0;
  start(type: 'prevent-app-suspension'): number {
    expect(type).toBe('prevent-app-suspension');
    this.active.add(++this.starts);
    return this.starts;
  }
  stop(id: number): void {
    expect(this.active.delete(id)).toBe(true);
  }
}

const idle = { loadedModels: 0, loadingModels: 0, inflight: 0 };
const loaded = { loadedModels: 1, loadingModels: 0, inflight: 0 };
const busy = { loadedModels: 1, loadingModels: 0, inflight: 2 };

describe('shouldKeepAwake', () => {
  it('follows the policy', () => {
    expect(shouldKeepAwake('while-model-loaded', loaded)).toBe(true);
    expect(shouldKeepAwake('while-model-loaded', { ...idle, loadingModels: 1 })).toBe(true);
    expect(shouldKeepAwake('while-model-loaded', idle)).toBe(false);
    expect(shouldKeepAwake('while-serving-requests', loaded)).toBe(false);
    expect(shouldKeepAwake('while-serving-requests', busy)).toBe(true);
    expect(shouldKeepAwake('never', busy)).toBe(false);
    expect(shouldKeepAwake('while-model-loaded', null)).toBe(false);
  });
});

describe('PowerGuard', () => {
  it('holds one blocker while serving and releases it when idle or stopped', () => {
    const blocker = new Blocker();
    const changes: boolean[] = [];
    const guard = new PowerGuard(blocker, 'while-model-loaded', (held) => changes.push(held));
    guard.update(idle);
    expect(guard.held).toBe(false);
    guard.update(loaded);
    guard.update(busy);
    expect(guard.held).toBe(true);
    expect(blocker.active.size).toBe(1);
    guard.update(idle);
    expect(blocker.active.size).toBe(0);
    guard.update(busy);
    guard.update(null); // the server stopped or crashed
    expect(blocker.active.size).toBe(0);
    expect(changes).toEqual([true, false, true, false]);
  });

  it('applies a policy change at once', () => {
    const blocker = new Blocker();
    const guard = new PowerGuard(blocker, 'while-model-loaded');
    guard.update(loaded);
    expect(guard.held).toBe(true);
    guard.setPolicy('never');
    expect(guard.held).toBe(false);
    guard.setPolicy('while-serving-requests');
    expect(guard.held).toBe(false);
    guard.update(busy);
    expect(guard.held).toBe(true);
    guard.release();
    expect(blocker.active.size).toBe(0);
  });
});

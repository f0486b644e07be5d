import type { KeepAwakePolicy } from '../../shared/ipc-contract.ts';

/** The part of Electron's `powerSaveBlocker` the guard uses. */
export interface PowerSaveBlockerApi {
  start(type: 'prevent-app-suspension'): number;
  stop(id: number): unknown;
}

/** What the server is doing, as its `activity` messages say; null while it is not running. */
export interface ServerActivity {
  loadedModels: number;
  loadingModels: number;
  inflight: number;
}

/** Whether the Mac must stay awake for this policy and this activity. */
export function shouldKeepAwake(policy: KeepAwakePolicy, activity: ServerActivity | null): boolean {
  if (!activity || policy === 'never') return false;
  if (policy === 'while-serving-requests') return activity.inflight > 0;
  return activity.loadedModels > 0 || activity.loadingModels > 0 || activity.inflight > 0;
}

/**
 * Holds `prevent-app-suspension` while the server is serving (per the policy) and releases it when
 * idle or stopped, so a Mac that serves the team does not sleep under it — and one that does not, can.
 */
export class PowerGuard {
  #blockerId: number | undefined;
  #activity: ServerActivity | null = null;

  constructor(
    private readonly blocker: PowerSaveBlockerApi,
    private policy: KeepAwakePolicy,
    private readonly onChange: (held: boolean) => void = () => {},
  ) {}

  get held(): boolean {
    return this.#blockerId !== undefined;
  }

  get currentPolicy(): KeepAwakePolicy {
    return this.policy;
  }

  setPolicy(policy: KeepAwakePolicy): void {
    this.policy = policy;
    this.#apply();
  }

  /** The latest activity from the server, or null when it stopped or crashed. */
  update(activity: ServerActivity | null): void {
    this.#activity = activity;
    this.#apply();
  }

  release(): void {
    this.#activity = null;
    this.#apply();
  }

  #apply(): void {
    const wanted = shouldKeepAwake(this.policy, this.#activity);
    if (wanted === this.held) return;
    if (wanted) {
      this.#blockerId = this.blocker.start('prevent-app-suspension');
    } else {
      this.blocker.stop(this.#blockerId as number);
      this.#blockerId = undefined;
    }
    this.onChange(wanted);
  }
}

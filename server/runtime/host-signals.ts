import type { PowerEvent, ThermalState } from '../../shared/ipc-contract.ts';

export type { PowerEvent, ThermalState };

/** What the host (the Electron app, on a Mac) has told the server about its machine. */
export interface HostSignalsSnapshot {
  /** `unknown` until the app says otherwise, and always when headless. */
  thermalState: ThermalState;
  /** The CPU speed limit in percent; null when never reported. */
  speedLimitPercent: number | null;
  lastPowerEvent: { event: PowerEvent; at: string } | null;
}

/** Thermal states as numbers for a gauge: -1 unknown, 0 nominal … 3 critical. */
export const thermalStateLevel: Readonly<Record<ThermalState, number>> = {
  unknown: -1,
  nominal: 0,
  fair: 1,
  serious: 2,
  critical: 3,
};

type Listener = (snapshot: HostSignalsSnapshot) => void;

/**
 * The latest host signals, written by server/hosts/utility-process.ts from parentPort messages and read by
 * metrics and deep health. Headless, nothing writes it and it keeps its defaults.
 */
export class HostSignals {
  #snapshot: HostSignalsSnapshot = { thermalState: 'unknown', speedLimitPercent: null, lastPowerEvent: null };
  readonly #listeners = new Set<Listener>();

  get snapshot(): HostSignalsSnapshot {
    return this.#snapshot;
  }

  setThermalState(state: ThermalState): void {
    this.#update({ thermalState: state });
  }

  setSpeedLimit(percent: number): void {
    this.#update({ speedLimitPercent: percent });
  }

  recordPowerEvent(event: PowerEvent, at = new Date()): void {
    this.#update({ lastPowerEvent: { event, at: at.toISOString() } });
  }

  /** Called on every change; returns the unsubscribe function. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #update(change: Partial<HostSignalsSnapshot>): void {
    this.#snapshot = Object.freeze({ ...this.#snapshot, ...change });
    for (const listener of this.#listeners) listener(this.#snapshot);
  }
}

/** The one store of this process (a server process serves one host). */
export const hostSignals = new HostSignals();

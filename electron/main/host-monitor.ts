import type { Alert, HostSignalMessage, PowerEvent, ThermalState } from '../../shared/ipc-contract.ts';
import { isThermalState, POWER_EVENTS } from '../../shared/host-signals.ts';

/** The part of Electron's `powerMonitor` LMX listens to. */
export interface PowerMonitorApi {
  on(event: 'thermal-state-change', listener: (details: unknown) => void): unknown;
  on(event: 'speed-limit-change', listener: (details: unknown) => void): unknown;
  on(event: PowerEvent, listener: () => void): unknown;
  /** macOS only. */
  getCurrentThermalState?(): ThermalState;
}

export interface HostMonitorDeps {
  powerMonitor: PowerMonitorApi;
  /** A native notification (Electron `Notification`). */
  notify(title: string, body: string): void;
  /** To the server (through the supervisor). */
  forward(message: HostSignalMessage): void;
  /** To the UI's alerts. */
  alert(alert: Alert): void;
  log: { info(message: string): void; warn(message: string): void };
  /** After a wake-up: the server may need looking at. */
  onResume?(): void;
  now?: () => Date;
}

const thermalAdvice: Partial<Record<ThermalState, { severity: Alert['severity']; text: string }>> = {
  serious: {
    severity: 'warning',
    text: 'The Mac is hot (thermal state serious): generation is being throttled.',
  },
  critical: {
    severity: 'critical',
    text: 'The Mac is overheating (thermal state critical): generation is heavily throttled. Consider unloading models.',
  },
};

/**
 * Thermal state, CPU speed limit and power events from `powerMonitor`: forwarded to the server, shown
 * as alerts, and — for serious and critical — a native notification once per change (not per event).
 */
export class HostMonitor {
  #thermal: ThermalState = 'unknown';
  #speedLimit: number | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(private readonly deps: HostMonitorDeps) {}

  get thermalState(): ThermalState {
    return this.#thermal;
  }
  get speedLimitPercent(): number | null {
    return this.#speedLimit;
  }

  onChange(listener: () => void): void {
    this.#listeners.add(listener);
  }

  start(): void {
    const { powerMonitor } = this.deps;
    powerMonitor.on('thermal-state-change', (details) => {
      const state = readField(details, 'state');
      if (isThermalState(state)) this.#setThermal(state);
    });
    powerMonitor.on('speed-limit-change', (details) => {
      const limit = readField(details, 'limit');
      if (typeof limit === 'number' && Number.isFinite(limit)) this.#setSpeedLimit(limit);
    });
    for (const event of POWER_EVENTS) powerMonitor.on(event, () => this.#power(event));
    const initial = powerMonitor.getCurrentThermalState?.();
    if (initial) this.#setThermal(initial);
  }

  #setThermal(state: ThermalState): void {
    if (state === this.#thermal) return;
    const previous = this.#thermal;
    this.#thermal = state;
    this.deps.log.info(`thermal state ${previous} → ${state}`);
    this.deps.forward({ type: 'thermal', state });
    const advice = thermalAdvice[state];
    if (advice) {
      this.deps.notify('LMX', advice.text);
      const at = (this.deps.now?.() ?? new Date()).toISOString();
      this.deps.alert({
        id: `thermal-${state}-${at}`,
        severity: advice.severity,
        kind: 'thermal',
        message: advice.text,
        at,
      });
    }
    this.#changed();
  }

  #setSpeedLimit(percent: number): void {
    const clamped = Math.max(0, Math.min(100, percent));
    if (clamped === this.#speedLimit) return;
    this.#speedLimit = clamped;
    this.deps.log.info(`CPU speed limit ${clamped}%`);
    this.deps.forward({ type: 'speed-limit', percent: clamped });
    this.#changed();
  }

  #power(event: PowerEvent): void {
    this.deps.log.info(`power: ${event}`);
    this.deps.forward({ type: 'power', event });
    if (event === 'resume') this.deps.onResume?.();
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

/** Electron passes an event object carrying the field (older versions passed the bare value). */
function readField(details: unknown, field: string): unknown {
  if (typeof details === 'object' && details !== null) return (details as Record<string, unknown>)[field];
  return details;
}

/**
 * The host signals the app forwards to the server, as value lists (`as const`): the app checks what
 * Electron's powerMonitor reports against them, the server checks what arrives on its port.
 */

/** macOS thermal states as Electron's powerMonitor reports them. */
export const THERMAL_STATES = ['unknown', 'nominal', 'fair', 'serious', 'critical'] as const;
export type ThermalState = (typeof THERMAL_STATES)[number];

/** powerMonitor events worth telling the server about. */
export const POWER_EVENTS = [
  'suspend',
  'resume',
  'on-ac',
  'on-battery',
  'shutdown',
  'lock-screen',
  'unlock-screen',
] as const;
export type PowerEvent = (typeof POWER_EVENTS)[number];

export function isThermalState(value: unknown): value is ThermalState {
  return (THERMAL_STATES as readonly unknown[]).includes(value);
}

export function isPowerEvent(value: unknown): value is PowerEvent {
  return (POWER_EVENTS as readonly unknown[]).includes(value);
}

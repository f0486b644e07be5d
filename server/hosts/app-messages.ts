import type { MainToServer, PowerEvent, ThermalState } from '../../shared/ipc-contract.ts';

const thermalStates = new Set<ThermalState>(['unknown', 'nominal', 'fair', 'serious', 'critical']);
const powerEvents = new Set<PowerEvent>([
  'suspend',
  'resume',
  'on-ac',
  'on-battery',
  'shutdown',
  'lock-screen',
  'unlock-screen',
]);

/**
 * Checks a message from the app before the server acts on it: the port is a trust boundary like any
 * other, and a malformed message must be ignored (and logged), never crash the server.
 */
export function parseMainMessage(data: unknown): MainToServer | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const message = data as Record<string, unknown>;
  switch (message.type) {
    case 'drain':
      return { type: 'drain' };
    case 'thermal':
      return thermalStates.has(message.state as ThermalState)
        ? { type: 'thermal', state: message.state as ThermalState }
        : undefined;
    case 'speed-limit':
      return typeof message.percent === 'number' &&
        Number.isFinite(message.percent) &&
        message.percent >= 0 &&
        message.percent <= 100
        ? { type: 'speed-limit', percent: message.percent }
        : undefined;
    case 'power':
      return powerEvents.has(message.event as PowerEvent)
        ? { type: 'power', event: message.event as PowerEvent }
        : undefined;
    case 'init':
      return parseInit(message);
    default:
      return undefined;
  }
}

function parseInit(message: Record<string, unknown>): MainToServer | undefined {
  const { adminKey, apiKey, safeMode, safeModeReason, config, restarts } = message;
  if (adminKey !== undefined && typeof adminKey !== 'string') return undefined;
  if (apiKey !== undefined && typeof apiKey !== 'string') return undefined;
  if (safeMode !== undefined && typeof safeMode !== 'boolean') return undefined;
  if (safeModeReason !== undefined && typeof safeModeReason !== 'string') return undefined;
  if (config !== undefined && (typeof config !== 'object' || config === null || Array.isArray(config)))
    return undefined;
  if (restarts !== undefined && (typeof restarts !== 'number' || !Number.isInteger(restarts) || restarts < 0))
    return undefined;
  return {
    type: 'init',
    adminKey,
    apiKey,
    safeMode,
    safeModeReason,
    config: config as Record<string, unknown> | undefined,
    restarts,
  };
}

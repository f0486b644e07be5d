import type { MainToServer } from '../../shared/ipc-contract.ts';
import { isPowerEvent, isThermalState } from '../../shared/host-signals.ts';

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
      return isThermalState(message.state) ? { type: 'thermal', state: message.state } : undefined;
    case 'speed-limit':
      return typeof message.percent === 'number' &&
        Number.isFinite(message.percent) &&
        message.percent >= 0 &&
        message.percent <= 100
        ? { type: 'speed-limit', percent: message.percent }
        : undefined;
    case 'power':
      return isPowerEvent(message.event) ? { type: 'power', event: message.event } : undefined;
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

import { describe, expect, it } from 'vitest';
import { HostSignals, thermalStateLevel } from '../../server/runtime/host-signals.ts';
import { parseMainMessage } from '../../server/hosts/app-messages.ts';

// The server side of the app → server port: message checks and the store metrics and health read.

describe('messages from the app', () => {
  it('accepts the contract messages', () => {
    expect(parseMainMessage({ type: 'drain' })).toEqual({ type: 'drain' });
    expect(parseMainMessage({ type: 'thermal', state: 'serious' })).toEqual({
      type: 'thermal',
      state: 'serious',
    });
    expect(parseMainMessage({ type: 'speed-limit', percent: 80 })).toEqual({
      type: 'speed-limit',
      percent: 80,
    });
    expect(parseMainMessage({ type: 'power', event: 'resume' })).toEqual({ type: 'power', event: 'resume' });
    expect(
      parseMainMessage({ type: 'init', adminKey: 'lmx-0123456789abcdef', safeMode: true, restarts: 2 }),
    ).toMatchObject({ type: 'init', adminKey: 'lmx-0123456789abcdef', safeMode: true, restarts: 2 });
  });

  it('rejects malformed ones', () => {
    for (const bad of [
      null,
      'drain',
      42,
      { type: 'thermal', state: 'hot' },
      { type: 'speed-limit', percent: 101 },
      { type: 'speed-limit', percent: Number.NaN },
      { type: 'power', event: 'reboot' },
      { type: 'init', adminKey: 7 },
      { type: 'init', config: [] },
      { type: 'init', safeMode: 'yes' },
      { type: 'init', restarts: -1 },
      { type: 'exec', command: 'rm -rf /' },
    ])
      expect(parseMainMessage(bad), JSON.stringify(bad)).toBeUndefined();
  });
});

describe('HostSignals', () => {
  it('starts unknown and keeps the latest of each signal', () => {
    const signals = new HostSignals();
    expect(signals.snapshot).toEqual({
      thermalState: 'unknown',
      speedLimitPercent: null,
      lastPowerEvent: null,
    });
    const seen: string[] = [];
    const unsubscribe = signals.subscribe((snapshot) => seen.push(snapshot.thermalState));
    signals.setThermalState('critical');
    signals.setSpeedLimit(55);
    signals.recordPowerEvent('resume', new Date('2026-01-01T00:00:00Z'));
    unsubscribe();
    signals.setThermalState('nominal');
    expect(signals.snapshot).toEqual({
      thermalState: 'nominal',
      speedLimitPercent: 55,
      lastPowerEvent: { event: 'resume', at: '2026-01-01T00:00:00.000Z' },
    });
    expect(seen).toEqual(['critical', 'critical', 'critical']);
    expect(Object.isFrozen(signals.snapshot)).toBe(true);
    expect(thermalStateLevel.critical).toBe(3);
    expect(thermalStateLevel.unknown).toBe(-1);
  });
});

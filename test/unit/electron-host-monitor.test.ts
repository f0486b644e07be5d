import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Alert, HostSignalMessage, ThermalState } from '../../shared/ipc-contract.ts';
import { HostMonitor, type PowerMonitorApi } from '../../electron/main/host-monitor.ts';

class PowerMonitor extends EventEmitter implements PowerMonitorApi {
  constructor(private readonly initial: ThermalState = 'nominal') {
    super();
  }
  getCurrentThermalState(): ThermalState {
    return this.initial;
  }
  thermal(state: string): void {
    this.emit('thermal-state-change', { state, preventDefault() {} });
  }
}

function monitor(initial: ThermalState = 'nominal') {
  const powerMonitor = new PowerMonitor(initial);
  const notifications: string[] = [];
  const forwarded: HostSignalMessage[] = [];
  const alerts: Alert[] = [];
  let resumed = 0;
  const host = new HostMonitor({
    powerMonitor,
    notify: (_title, body) => notifications.push(body),
    forward: (message) => forwarded.push(message),
    alert: (alert) => alerts.push(alert),
    log: { info: () => {}, warn: () => {} },
    onResume: () => resumed++,
  });
  host.start();
  return { host, powerMonitor, notifications, forwarded, alerts, resumed: () => resumed };
}

describe('HostMonitor', () => {
  it('forwards the current thermal state at start and every change after', () => {
    const { host, powerMonitor, forwarded } = monitor('fair');
    expect(forwarded).toEqual([{ type: 'thermal', state: 'fair' }]);
    powerMonitor.thermal('nominal');
    expect(host.thermalState).toBe('nominal');
    expect(forwarded.at(-1)).toEqual({ type: 'thermal', state: 'nominal' });
  });

  it('notifies once per change to serious or critical, not per event', () => {
    const { powerMonitor, notifications, alerts } = monitor();
    powerMonitor.thermal('fair');
    expect(notifications).toHaveLength(0);
    powerMonitor.thermal('serious');
    powerMonitor.thermal('serious');
    powerMonitor.thermal('serious');
    expect(notifications).toHaveLength(1);
    powerMonitor.thermal('critical');
    expect(notifications).toHaveLength(2);
    expect(notifications[1]).toMatch(/critical/);
    powerMonitor.thermal('nominal');
    powerMonitor.thermal('serious');
    expect(notifications).toHaveLength(3);
    expect(alerts.map((alert) => [alert.kind, alert.severity])).toEqual([
      ['thermal', 'warning'],
      ['thermal', 'critical'],
      ['thermal', 'warning'],
    ]);
  });

  it('ignores states it does not know', () => {
    const { host, powerMonitor, forwarded } = monitor();
    powerMonitor.thermal('melting');
    powerMonitor.emit('thermal-state-change', null);
    expect(host.thermalState).toBe('nominal');
    expect(forwarded).toHaveLength(1);
  });

  it('forwards speed-limit changes and power events; resume triggers a check', () => {
    const { host, powerMonitor, forwarded, resumed } = monitor();
    powerMonitor.emit('speed-limit-change', { limit: 60 });
    powerMonitor.emit('speed-limit-change', { limit: 60 });
    powerMonitor.emit('suspend');
    powerMonitor.emit('resume');
    expect(host.speedLimitPercent).toBe(60);
    expect(forwarded.slice(1)).toEqual([
      { type: 'speed-limit', percent: 60 },
      { type: 'power', event: 'suspend' },
      { type: 'power', event: 'resume' },
    ]);
    expect(resumed()).toBe(1);
  });
});

import type { LoginItemSettings, Settings } from 'electron';
import { describe, expect, it } from 'vitest';
import { LoginItem, type LoginItemApi } from '../../electron/main/login-item.ts';

/**
 * Stands in for macOS's login items (SMAppService, as Electron 45 reports it): what was set is what is
 * read, the user can change it in System Settings, and macOS 13+ may hold a registration for approval.
 */
class LoginItems implements LoginItemApi {
  openAtLogin = false;
  status: LoginItemSettings['status'] = 'not-registered';
  /** What the OS does with a new registration: enable it, or wait for the user's approval. */
  onRegister: 'enabled' | 'requires-approval' = 'enabled';
  calls: Settings[] = [];
  setLoginItemSettings(settings: Settings): void {
    this.calls.push(settings);
    this.status = settings.openAtLogin ? this.onRegister : 'not-registered';
    this.openAtLogin = this.status === 'enabled';
  }
  getLoginItemSettings(): LoginItemSettings {
    return {
      openAtLogin: this.openAtLogin,
      wasOpenedAtLogin: false,
      status: this.status,
      executableWillLaunchAtLogin: false,
      launchItems: [],
    };
  }
}

describe('LoginItem', () => {
  it('sets launch at login with the settings Electron 45 knows and reports what the OS says', () => {
    const os = new LoginItems();
    const item = new LoginItem(os);
    expect(item.state).toEqual({ enabled: false, needsApproval: false });
    expect(item.set(true)).toEqual({ enabled: true, needsApproval: false });
    // Only keys of Electron's own Settings type: no `openAsHidden`, which 45 silently ignores.
    expect(os.calls).toEqual([{ openAtLogin: true }]);
    // Changed in System Settings behind the app's back: the app reflects it.
    os.openAtLogin = false;
    os.status = 'not-registered';
    expect(item.state.enabled).toBe(false);
  });

  it('says when macOS waits for the user to approve the login item', () => {
    const os = new LoginItems();
    os.onRegister = 'requires-approval';
    const item = new LoginItem(os);
    expect(item.set(true)).toEqual({ enabled: false, needsApproval: true });
    // Approved in System Settings: enabled, nothing more to ask.
    os.status = 'enabled';
    os.openAtLogin = true;
    expect(item.state).toEqual({ enabled: true, needsApproval: false });
  });
});

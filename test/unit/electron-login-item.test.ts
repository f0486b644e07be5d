import { describe, expect, it } from 'vitest';
import { LoginItem, type LoginItemApi } from '../../electron/main/login-item.ts';

/** Stands in for the OS's login items: what was set is what is read, and the user can change it too. */
class LoginItems implements LoginItemApi {
  openAtLogin = false;
  calls: { openAtLogin: boolean; openAsHidden?: boolean }[] = [];
  setLoginItemSettings(settings: { openAtLogin: boolean; openAsHidden?: boolean }): void {
    this.calls.push(settings);
    this.openAtLogin = settings.openAtLogin;
  }
  getLoginItemSettings(): { openAtLogin: boolean } {
    return { openAtLogin: this.openAtLogin };
  }
}

describe('LoginItem', () => {
  it('sets launch at login hidden and reports what the OS says', () => {
    const os = new LoginItems();
    const item = new LoginItem(os);
    expect(item.enabled).toBe(false);
    expect(item.set(true)).toBe(true);
    expect(os.calls).toEqual([{ openAtLogin: true, openAsHidden: true }]);
    // Changed in System Settings behind the app's back: the app reflects it.
    os.openAtLogin = false;
    expect(item.enabled).toBe(false);
  });
});

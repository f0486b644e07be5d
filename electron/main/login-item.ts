/** The part of Electron's `app` that manages the login item. */
export interface LoginItemApi {
  setLoginItemSettings(settings: { openAtLogin: boolean; openAsHidden?: boolean }): void;
  getLoginItemSettings(): { openAtLogin: boolean };
}

/**
 * "Launch at Login". The OS is the source of truth (the user can change it in System Settings), so
 * the state is always read back rather than remembered.
 */
export class LoginItem {
  constructor(private readonly api: LoginItemApi) {}

  get enabled(): boolean {
    return this.api.getLoginItemSettings().openAtLogin;
  }

  /** Applies the setting and returns what the OS now reports. */
  set(enabled: boolean): boolean {
    // Hidden: a menu-bar app starts in the tray, without opening its window.
    this.api.setLoginItemSettings({ openAtLogin: enabled, openAsHidden: true });
    return this.enabled;
  }
}

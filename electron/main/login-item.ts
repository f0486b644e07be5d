import type { App } from 'electron';

/** The part of Electron's `app` that manages the login item, in Electron's own types. */
export type LoginItemApi = Pick<App, 'setLoginItemSettings' | 'getLoginItemSettings'>;

/** What the tray and the window show about "Launch at Login". */
export interface LoginItemState {
  enabled: boolean;
  /**
   * macOS 13+ registered the app but waits for the user to allow it in System Settings → General →
   * Login Items; until then it does not start at login and `openAtLogin` reads false.
   */
  needsApproval: boolean;
}

/** System Settings' Login Items pane (macOS 13+). */
export const loginItemsSettingsUrl = 'x-apple.systempreferences:com.apple.LoginItems-Settings.extension';

/**
 * "Launch at Login". The OS is the source of truth (the user can change it in System Settings), so
 * the state is always read back rather than remembered. No "open hidden" option is needed: a
 * menu-bar app (LSUIElement) shows no window at launch anyway, and Electron 45 has none on macOS 13+.
 */
export class LoginItem {
  constructor(private readonly api: LoginItemApi) {}

  get state(): LoginItemState {
    const settings = this.api.getLoginItemSettings();
    const needsApproval = settings.status === 'requires-approval';
    return { enabled: settings.openAtLogin && !needsApproval, needsApproval };
  }

  /** Applies the setting and returns what the OS now reports. */
  set(enabled: boolean): LoginItemState {
    this.api.setLoginItemSettings({ openAtLogin: enabled });
    return this.state;
  }
}

import type { AppUpdater, UpdateInfo } from 'electron-updater';

/** The part of electron-updater's AppUpdater that LMX drives (its Squirrel.Mac updater on a Mac). */
export type UpdaterApi = Pick<
  AppUpdater,
  'autoDownload' | 'autoInstallOnAppQuit' | 'autoRunAppAfterInstall' | 'checkForUpdates' | 'setFeedURL'
> & {
  on(event: 'update-downloaded', listener: (info: UpdateInfo) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
};

export interface AutoUpdatesOptions {
  enabled: boolean;
  /** A generic update feed (a folder with latest-mac.yml and the zip) instead of GitHub Releases. */
  feedUrl?: string;
  /** How often to look again after the check at start. */
  intervalMs?: number;
  log: { info(message: string): void; warn(message: string): void };
  /** Told when an update is ready (its version) or gone. */
  onChange?: () => void;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Updates from the release feed: a check at start and daily, the download in the background, and
 * the install when the app quits. The app quits only after its server has drained (the quit handler
 * waits for it), and Squirrel.Mac swaps the bundle as the process exits — so an update never cuts a
 * request short, and never relaunches the app the user just quit.
 */
export class AutoUpdates {
  #enabled: boolean;
  #timer: NodeJS.Timeout | undefined;
  #ready: string | null = null;

  constructor(
    private readonly updater: UpdaterApi,
    private readonly options: AutoUpdatesOptions,
  ) {
    this.#enabled = options.enabled;
    if (options.feedUrl) updater.setFeedURL({ provider: 'generic', url: options.feedUrl });
    updater.autoRunAppAfterInstall = false;
    this.#apply();
    updater.on('update-downloaded', (info) => {
      this.#ready = info.version;
      options.log.info(`update ${info.version} downloaded: it is installed when LMX quits`);
      options.onChange?.();
    });
    updater.on('error', (error) => options.log.warn(`update check failed: ${error.message}`));
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** The version waiting to be installed at quit, if any. */
  get readyVersion(): string | null {
    return this.#enabled ? this.#ready : null;
  }

  start(): void {
    if (!this.#enabled || this.#timer) return;
    void this.check();
    this.#timer = setInterval(() => void this.check(), this.options.intervalMs ?? DAY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
    this.#apply();
    if (enabled) this.start();
    else this.stop();
    this.options.onChange?.();
  }

  /** One check (and, when there is something newer, its download); failures are logged, not thrown. */
  async check(): Promise<void> {
    try {
      await this.updater.checkForUpdates();
    } catch (error) {
      this.options.log.warn(`update check failed: ${(error as Error).message}`);
    }
  }

  #apply(): void {
    this.updater.autoDownload = this.#enabled;
    this.updater.autoInstallOnAppQuit = this.#enabled;
  }
}

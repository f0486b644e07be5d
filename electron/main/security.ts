import type { Session } from 'electron';

/**
 * Security defaults for every window, as code that tests can read: isolation and sandboxing, no Node
 * in the renderer, navigation and new windows refused, a CSP, and the one origin allowed to use IPC.
 */

/** Electron's WebPreferences, as far as LMX sets them. */
export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  nodeIntegrationInSubFrames: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  experimentalFeatures: false;
  navigateOnDragDrop: false;
  spellcheck: false;
}

export function secureWebPreferences(preload: string): SecureWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    experimentalFeatures: false,
    navigateOnDragDrop: false,
    spellcheck: false,
  };
}

/**
 * The window's CSP: only our own files and the local server. No inline script, no eval, no plugins,
 * no framing. (The server sends its own, at least as strict, with /ui.)
 */
export function contentSecurityPolicy(serverOrigin: string | null): string {
  const server = serverOrigin ? ` ${serverOrigin}` : '';
  return [
    `default-src 'self'`,
    `script-src 'self'`,
    `style-src 'self'`,
    `img-src 'self' data:`,
    `font-src 'self'`,
    `connect-src 'self'${server}`,
    `object-src 'none'`,
    `base-uri 'none'`,
    `form-action 'none'`,
    `frame-ancestors 'none'`,
  ].join('; ');
}

/** Adds the CSP to a response that has none (header names are case-insensitive). */
export function withContentSecurityPolicy(
  headers: Record<string, string[] | string> | undefined,
  policy: string,
): Record<string, string[] | string> {
  const result = { ...headers };
  const present = Object.keys(result).some((name) => name.toLowerCase() === 'content-security-policy');
  if (!present) result['Content-Security-Policy'] = [policy];
  return result;
}

/** What the trusted page may do beyond a plain web page: Chromium's name for clipboard.writeText. */
const grantedPermissions = new Set(['clipboard-sanitized-write']);

/**
 * The pages that may be shown in the window and call the bridge: the app's own starting page and the
 * local server's UI. Everything else (a link, a redirect, a LAN address) is refused.
 */
export class TrustedPages {
  #serverOrigin: string | null = null;

  constructor(private readonly startingPageUrl: string) {}

  /** The server's origin changes only if its port does; loopback only. */
  setServerOrigin(url: string | null): void {
    if (url === null) {
      this.#serverOrigin = null;
      return;
    }
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' || !['127.0.0.1', '[::1]', 'localhost'].includes(parsed.hostname))
      throw new Error(`refusing a non-loopback server origin for the window: ${parsed.origin}`);
    this.#serverOrigin = parsed.origin;
  }

  get serverOrigin(): string | null {
    return this.#serverOrigin;
  }

  /** May the window show this URL? */
  allowsNavigation(url: string): boolean {
    if (url === this.startingPageUrl) return true;
    return this.#isServerUi(url);
  }

  /**
   * May a page at this URL have this permission? Only writing to the clipboard (the Copy buttons),
   * and only for the top frame of the server's UI; everything else (camera, notifications, geolocation,
   * reading the clipboard …) is refused for every page.
   */
  allowsPermission(permission: string, requestingUrl: string | undefined, isMainFrame: boolean): boolean {
    return grantedPermissions.has(permission) && this.allowsIpcFrom(requestingUrl, isMainFrame);
  }

  /** May a frame at this URL call the bridge? Only the top frame of the server's UI. */
  allowsIpcFrom(frameUrl: string | undefined, isMainFrame: boolean): boolean {
    return isMainFrame && frameUrl !== undefined && this.#isServerUi(frameUrl);
  }

  #isServerUi(url: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    return (
      this.#serverOrigin !== null &&
      parsed.origin === this.#serverOrigin &&
      parsed.username === '' &&
      parsed.password === '' &&
      (parsed.pathname === '/ui' || parsed.pathname.startsWith('/ui/'))
    );
  }
}

/** The parts of Electron's Session the permission guard uses. */
export type PermissionSession = Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>;

/** Permission requests and checks answered by {@link TrustedPages.allowsPermission}. */
export function guardPermissions(session: PermissionSession, pages: TrustedPages): void {
  session.setPermissionRequestHandler((_contents, permission, callback, details) =>
    callback(pages.allowsPermission(permission, details.requestingUrl, details.isMainFrame)),
  );
  session.setPermissionCheckHandler((_contents, permission, _origin, details) =>
    pages.allowsPermission(permission, details.requestingUrl, details.isMainFrame),
  );
}

/** The parts of WebContents the guards use. */
export interface GuardedContents {
  on(
    event: 'will-navigate' | 'will-redirect',
    listener: (event: { preventDefault(): void; url: string }) => void,
  ): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Navigation outside the trusted pages is cancelled; new windows are never opened — an http(s) link to
 * the dashboard or docs goes to the user's browser instead.
 */
export function guardNavigation(
  contents: GuardedContents,
  pages: TrustedPages,
  openExternal: (url: string) => void,
  log: { warn(message: string): void },
): void {
  const refuse = (event: { preventDefault(): void; url: string }) => {
    if (pages.allowsNavigation(event.url)) return;
    event.preventDefault();
    log.warn(`blocked navigation to ${safeForLog(event.url)}`);
  };
  contents.on('will-navigate', refuse);
  contents.on('will-redirect', refuse);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//i.test(url)) openExternal(url);
    else log.warn(`blocked a new window for ${safeForLog(url)}`);
    return { action: 'deny' };
  });
}

function safeForLog(url: string): string {
  return url.length > 200 ? `${url.slice(0, 200)}…` : url;
}

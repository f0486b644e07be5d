import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  contentSecurityPolicy,
  guardNavigation,
  guardPermissions,
  secureWebPreferences,
  TrustedPages,
  withContentSecurityPolicy,
  type GuardedContents,
  type PermissionSession,
} from '../../electron/main/security.ts';

const starting = 'file:///Applications/LMX.app/Contents/Resources/app/electron/static/starting.html';

function pages(): TrustedPages {
  const trusted = new TrustedPages(starting);
  trusted.setServerOrigin('http://127.0.0.1:1235');
  return trusted;
}

describe('secure window defaults', () => {
  it('isolates and sandboxes the renderer with no Node', () => {
    expect(secureWebPreferences('/app/preload.cjs')).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });

  it('CSP allows only self and the local server, with no inline script or framing', () => {
    const policy = contentSecurityPolicy('http://127.0.0.1:1235');
    expect(policy).toContain(`script-src 'self'`);
    expect(policy).not.toMatch(/unsafe-inline|unsafe-eval/);
    expect(policy).toContain(`connect-src 'self' http://127.0.0.1:1235`);
    expect(policy).toContain(`object-src 'none'`);
    expect(policy).toContain(`frame-ancestors 'none'`);
    expect(
      withContentSecurityPolicy({ 'content-type': ['text/html'] }, policy)['Content-Security-Policy'],
    ).toEqual([policy]);
    // The server's own (stricter, page-specific) policy is kept as it is.
    expect(withContentSecurityPolicy({ 'content-security-policy': ['x'] }, policy)).toEqual({
      'content-security-policy': ['x'],
    });
  });
});

describe('TrustedPages', () => {
  it('allows the starting page and the local server UI only', () => {
    const trusted = pages();
    expect(trusted.allowsNavigation(starting)).toBe(true);
    expect(trusted.allowsNavigation('http://127.0.0.1:1235/ui/')).toBe(true);
    expect(trusted.allowsNavigation('http://127.0.0.1:1235/ui/models')).toBe(true);
    for (const url of [
      'http://127.0.0.1:1235/admin/state',
      'http://127.0.0.1:1236/ui/',
      'https://evil.example/ui/',
      'http://user:pw@127.0.0.1:1235/ui/',
      'http://127.0.0.1:1235/uix',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
    ])
      expect(trusted.allowsNavigation(url), url).toBe(false);
  });

  it('lets only the top frame of the server UI use IPC', () => {
    const trusted = pages();
    expect(trusted.allowsIpcFrom('http://127.0.0.1:1235/ui/', true)).toBe(true);
    expect(trusted.allowsIpcFrom('http://127.0.0.1:1235/ui/', false)).toBe(false);
    expect(trusted.allowsIpcFrom(starting, true)).toBe(false);
    expect(trusted.allowsIpcFrom(undefined, true)).toBe(false);
    trusted.setServerOrigin(null);
    expect(trusted.allowsIpcFrom('http://127.0.0.1:1235/ui/', true)).toBe(false);
  });

  it('refuses a server origin off loopback', () => {
    expect(() => new TrustedPages(starting).setServerOrigin('http://192.168.1.5:1235')).toThrow(
      /non-loopback/,
    );
  });
});

class Contents extends EventEmitter implements GuardedContents {
  openHandler: ((details: { url: string }) => { action: 'deny' }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
    this.openHandler = handler;
  }
  navigate(event: string, url: string): boolean {
    let prevented = false;
    this.emit(event, { url, preventDefault: () => (prevented = true) });
    return prevented;
  }
}

describe('guardNavigation', () => {
  it('cancels navigation away from trusted pages and never opens windows', () => {
    const contents = new Contents();
    const opened: string[] = [];
    guardNavigation(contents, pages(), (url) => opened.push(url), { warn: () => {} });
    expect(contents.navigate('will-navigate', 'http://127.0.0.1:1235/ui/')).toBe(false);
    expect(contents.navigate('will-navigate', 'https://evil.example/')).toBe(true);
    expect(contents.navigate('will-redirect', 'https://evil.example/')).toBe(true);
    expect(contents.navigate('will-attach-webview', 'https://evil.example/')).toBe(true);
    expect(contents.openHandler?.({ url: 'https://huggingface.co/models' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://huggingface.co/models']);
  });
});

type RequestHandler = Parameters<PermissionSession['setPermissionRequestHandler']>[0];
type CheckHandler = Parameters<PermissionSession['setPermissionCheckHandler']>[0];

/** Records the handlers, then asks them as Chromium would (a request, then a check). */
class PermissionAsker implements PermissionSession {
  request: RequestHandler = null;
  check: CheckHandler = null;
  setPermissionRequestHandler(handler: RequestHandler): void {
    this.request = handler;
  }
  setPermissionCheckHandler(handler: CheckHandler): void {
    this.check = handler;
  }
  ask(permission: Parameters<NonNullable<RequestHandler>>[1], requestingUrl: string, isMainFrame = true) {
    let granted: boolean | undefined;
    this.request!({} as never, permission, (answer) => (granted = answer), {
      requestingUrl,
      isMainFrame,
    } as never);
    const checked = this.check!(null, permission, new URL(requestingUrl).origin, {
      requestingUrl,
      isMainFrame,
    } as never);
    return { granted, checked };
  }
}

describe('guardPermissions', () => {
  it('grants clipboard writes to the top frame of the server UI only, and nothing else to anyone', () => {
    const session = new PermissionAsker();
    guardPermissions(session, pages());
    const ui = 'http://127.0.0.1:1235/ui/';
    expect(session.ask('clipboard-sanitized-write', ui)).toEqual({ granted: true, checked: true });
    for (const [permission, url, isMainFrame] of [
      ['clipboard-sanitized-write', ui, false],
      ['clipboard-sanitized-write', 'https://evil.example/ui/', true],
      ['clipboard-sanitized-write', 'http://127.0.0.1:1236/ui/', true],
      ['clipboard-sanitized-write', starting, true],
      ['clipboard-read', ui, true],
      ['notifications', ui, true],
      ['media', ui, true],
      ['geolocation', ui, true],
    ] as const)
      expect(session.ask(permission, url, isMainFrame), `${permission} ${url}`).toEqual({
        granted: false,
        checked: false,
      });
  });
});

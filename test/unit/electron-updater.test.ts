import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AutoUpdates, type UpdaterApi } from '../../electron/main/updater.ts';

// electron-updater's real Mac updater (feed parsing, download, sha512 check, the local proxy it serves
// the zip to Squirrel.Mac from) against a real feed on loopback. Stood in for, because they are
// Electron's native parts: Squirrel.Mac (`electron.autoUpdater`, played below the way it behaves:
// it fetches the zip from the proxy and installs it when the app exits) and Chromium's `net`, replaced
// by Node's http client.

const require = createRequire(import.meta.url);
const updaterRequire = createRequire(require.resolve('electron-updater'));

/** Squirrel.Mac as electron-updater drives it: setFeedURL, then checkForUpdates fetches the zip. */
class Squirrel extends EventEmitter {
  feed: { url: string; headers?: Record<string, string> } | undefined;
  received: Buffer | undefined;
  setFeedURL(options: { url: string; headers?: Record<string, string> }): void {
    this.feed = options;
  }
  checkForUpdates(): void {
    void (async () => {
      const headers = this.feed!.headers ?? {};
      const answer = (await (await fetch(this.feed!.url, { headers })).json()) as { url: string };
      this.received = Buffer.from(await (await fetch(answer.url)).arrayBuffer());
      this.emit('update-downloaded');
    })().catch((error: unknown) => this.emit('error', error));
  }
  quitAndInstall(): void {
    throw new Error('LMX never calls quitAndInstall: the update is installed as the app exits');
  }
}

interface Feed {
  url: string;
  requests: string[];
  zip: Buffer;
  close(): Promise<void>;
}

/** A release folder as electron-builder publishes it: latest-mac.yml beside the zip. */
async function serveFeed(version: string): Promise<Feed> {
  const zip = randomBytes(64 * 1024);
  const zipName = `LMX-${version}-arm64-mac.zip`;
  const sha512 = createHash('sha512').update(zip).digest('base64');
  const latest = [
    `version: ${version}`,
    'files:',
    `  - url: ${zipName}`,
    `    sha512: ${sha512}`,
    `    size: ${zip.length}`,
    `path: ${zipName}`,
    `sha512: ${sha512}`,
    `releaseDate: '2026-12-01T00:00:00.000Z'`,
    '',
  ].join('\n');
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const name = new URL(req.url ?? '/', 'http://feed').pathname;
    requests.push(name);
    if (name === '/latest-mac.yml')
      return void res.writeHead(200, { 'content-type': 'text/yaml' }).end(latest);
    if (name === `/${zipName}`)
      return void res
        .writeHead(200, { 'content-type': 'application/zip', 'content-length': zip.length })
        .end(zip);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    zip,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let dir: string;
let feed: Feed | undefined;
let updates: AutoUpdates | undefined;
const real = { arch: process.arch, platform: process.platform };
const electronFile = updaterRequire.resolve('electron');

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lmx-updater-'));
  // The Mac this runs for: electron-updater picks latest-mac.yml and the arm64 zip by the running
  // platform and architecture.
  Object.defineProperty(process, 'arch', { value: 'arm64', configurable: true });
  Object.defineProperty(process, 'platform', { value: 'darwin', configurable: true });
});
afterEach(async () => {
  updates?.stop();
  await feed?.close();
  Object.defineProperty(process, 'arch', { value: real.arch, configurable: true });
  Object.defineProperty(process, 'platform', { value: real.platform, configurable: true });
  delete require.cache[electronFile];
  await rm(dir, { recursive: true, force: true });
  feed = updates = undefined;
});

async function macUpdater(squirrel: Squirrel, feedUrl: string): Promise<UpdaterApi> {
  // What electron-builder writes into Contents/Resources from the `publish` setting.
  await writeFile(
    path.join(dir, 'app-update.yml'),
    `provider: generic\nurl: ${feedUrl}\nupdaterCacheDirName: lmx-updater\n`,
  );
  require.cache[electronFile] = {
    id: electronFile,
    filename: electronFile,
    loaded: true,
    exports: { autoUpdater: squirrel },
  } as unknown as NodeJS.Module;
  const { MacUpdater } = updaterRequire('electron-updater/out/MacUpdater.js') as {
    MacUpdater: new (options: unknown, app: unknown) => UpdaterApi & { httpExecutor: unknown };
  };
  const { ElectronHttpExecutor } = updaterRequire('electron-updater/out/electronHttpExecutor.js') as {
    ElectronHttpExecutor: new () => object;
  };
  // electron-updater's own downloader, with Chromium's net.request swapped for Node's.
  class NodeHttp extends (ElectronHttpExecutor as new () => object) {
    createRequest(options: object, callback: (response: unknown) => void) {
      return request(options, callback);
    }
  }
  const app = {
    version: '0.1.0',
    name: 'LMX',
    isPackaged: true,
    appUpdateConfigPath: path.join(dir, 'app-update.yml'),
    userDataPath: path.join(dir, 'user-data'),
    baseCachePath: path.join(dir, 'cache'),
    whenReady: () => Promise.resolve(),
    relaunch: () => {},
    quit: () => {},
    onQuit: () => {},
  };
  const updater = new MacUpdater(undefined, app);
  updater.httpExecutor = new NodeHttp();
  (updater as unknown as { logger: unknown }).logger = null;
  return updater;
}

async function until(what: string, predicate: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const log = { info: () => {}, warn: () => {} };

describe('AutoUpdates against a release feed on loopback', () => {
  it('checks at start, downloads in the background, stages it for install at exit, and looks again', async () => {
    feed = await serveFeed('0.2.0');
    const squirrel = new Squirrel();
    const updater = await macUpdater(squirrel, feed.url);
    updates = new AutoUpdates(updater, { enabled: true, feedUrl: feed.url, intervalMs: 300, log });
    updates.start();
    await until('the update to be ready', () => updates!.readyVersion === '0.2.0');
    // The feed first; the zip next, unless a loaded machine let the next 300 ms check come in between.
    expect(feed.requests[0]).toBe('/latest-mac.yml');
    expect(feed.requests.filter((r) => r !== '/latest-mac.yml')).toEqual(['/LMX-0.2.0-arm64-mac.zip']);
    // The verified zip reached Squirrel.Mac, which installs it when the app exits (after the drain)…
    await until('Squirrel to fetch the zip', () => squirrel.received !== undefined);
    expect(squirrel.received!.equals(feed.zip)).toBe(true);
    expect(updater.autoInstallOnAppQuit).toBe(true);
    // …without relaunching an app the user quit.
    expect(updater.autoRunAppAfterInstall).toBe(false);
    // The daily check, here every 300 ms.
    await until('a second check', () => feed!.requests.filter((r) => r === '/latest-mac.yml').length >= 2);

    // Turned off: nothing is installed at quit, and the feed is not asked again.
    updates.setEnabled(false);
    expect(updater.autoInstallOnAppQuit).toBe(false);
    expect(updater.autoDownload).toBe(false);
    expect(updates.readyVersion).toBeNull();
    const asked = feed.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(feed.requests.length).toBe(asked);
  });

  it('turned off in the settings, never asks the feed', async () => {
    feed = await serveFeed('0.2.0');
    updates = new AutoUpdates(await macUpdater(new Squirrel(), feed.url), {
      enabled: false,
      feedUrl: feed.url,
      intervalMs: 100,
      log,
    });
    updates.start();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(feed.requests).toEqual([]);
  });

  it('is told of nothing when the feed has no newer version', async () => {
    feed = await serveFeed('0.1.0');
    const squirrel = new Squirrel();
    updates = new AutoUpdates(await macUpdater(squirrel, feed.url), {
      enabled: true,
      feedUrl: feed.url,
      log,
    });
    await updates.check();
    expect(feed.requests).toEqual(['/latest-mac.yml']);
    expect(updates.readyVersion).toBeNull();
    expect(squirrel.feed).toBeUndefined();
  });
});

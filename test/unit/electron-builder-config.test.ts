import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/server.ts';

const require = createRequire(import.meta.url);
// electron-builder's own loader and schema check (what `electron-builder --mac` runs first).
const yaml = require('js-yaml') as { load(text: string): Record<string, unknown> };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

const config = yaml.load(readFileSync(path.join(repoRoot, 'electron-builder.yml'), 'utf8')) as {
  appId: string;
  extraMetadata: { main: string };
  files: string[];
  mac: {
    target: { target: string; arch: string[] }[];
    icon: string;
    hardenedRuntime: boolean;
    notarize: boolean;
    entitlements: string;
    entitlementsInherit: string;
    extendInfo: Record<string, unknown>;
  };
  publish: { provider: string };
};

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('builds a hardened, notarized, Dock-less menu-bar app as a DMG and the zip updates need', () => {
    expect(config.appId).toMatch(/^[\w.-]+$/);
    expect(config.mac.extendInfo.LSUIElement).toBe(true);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.notarize).toBe(true);
    expect(config.mac.target).toEqual([
      { target: 'dmg', arch: ['arm64'] },
      { target: 'zip', arch: ['arm64'] },
    ]);
    expect(config.mac.icon).toBe('build/icon.icns');
    expect(existsSync(path.join(repoRoot, config.mac.icon))).toBe(true);
    expect(config.publish.provider).toBe('github');
    // The compiled entry (npm run build), not TypeScript.
    expect(config.extraMetadata.main).toBe('dist/main/electron-main.js');
    expect(config.files).not.toContain('server/**');
  });

  it('asks for the minimum entitlements, each with a reason', () => {
    expect(config.mac.entitlementsInherit).toBe(config.mac.entitlements);
    const plist = readFileSync(path.join(repoRoot, config.mac.entitlements), 'utf8');
    const keys = [...plist.matchAll(/<key>([^<]+)<\/key>/g)].map((match) => match[1]);
    expect(keys).toEqual(['com.apple.security.cs.allow-jit']);
    expect(plist).toMatch(/<!--[^>]*V8[^>]*-->\s*<key>com\.apple\.security\.cs\.allow-jit/);
  });
});

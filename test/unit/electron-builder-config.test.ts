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
  mac: {
    target: { target: string }[];
    hardenedRuntime: boolean;
    entitlements: string;
    extendInfo: Record<string, unknown>;
  };
};

describe('electron-builder.yml', () => {
  it('passes electron-builder’s schema', async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });

  it('builds a hardened, Dock-less menu-bar app as a DMG whose entry exists', () => {
    expect(config.appId).toMatch(/^[\w.-]+$/);
    expect(config.mac.extendInfo.LSUIElement).toBe(true);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(config.mac.target.map((target) => target.target)).toEqual(['dmg']);
    expect(existsSync(path.join(repoRoot, config.mac.entitlements))).toBe(true);
    expect(existsSync(path.join(repoRoot, config.extraMetadata.main))).toBe(true);
  });
});

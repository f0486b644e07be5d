// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../renderer/api/client.ts';
import type { Alert, ServerConfig } from '../../renderer/api/types.ts';
import { downloadInputProblem } from '../../renderer/components/DownloadBox.tsx';
import { gaugeFigures } from '../../renderer/components/HealthPanel.tsx';
import { shownStatus } from '../../renderer/components/StatusHeader.tsx';
import { describeError, formatBytes, formatCount } from '../../renderer/format.ts';
import { visibleAlerts } from '../../renderer/hooks/use-server.ts';
import { formFromConfig, patchFromForm } from '../../renderer/settings-form.ts';

describe('figures in words', () => {
  it('formats sizes and counts the way people read them', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(4.2 * 1024 ** 3)).toBe('4.2 GB');
    expect(formatBytes(null)).toBe('—');
    expect(formatCount(7_000_000_000)).toBe('7B');
    expect(formatCount(260_000)).toBe('260K');
    expect(formatCount(4096)).toBe('4.1K');
  });

  it('explains errors in plain words', () => {
    expect(describeError(new ApiError(0, 'Could not reach the LMX server.', 'network_error'))).toMatch(
      /Is LMX running\?/,
    );
    expect(describeError(new ApiError(401, 'A valid admin key is required.'))).toMatch(
      /admin key was refused/,
    );
    expect(describeError(new ApiError(507, 'The model needs 9 GB; 3 GB are free.'))).toMatch(
      /Not enough free memory.*9 GB.*Unload another model/,
    );
    expect(describeError(new ApiError(409, 'Unload the model before deleting it.', 'model_loaded'))).toBe(
      'Unload the model before deleting it.',
    );
    expect(describeError(new ApiError(500, 'The server had an error.', 'internal_error'))).toMatch(/log/);
  });
});

describe('download box input', () => {
  it('accepts hf: URIs and http(s) links, and says what is wrong with anything else', () => {
    expect(downloadInputProblem('hf:owner/repo/file.gguf')).toBeUndefined();
    expect(downloadInputProblem('hf:owner/repo:Q4_K_M')).toBeUndefined();
    expect(downloadInputProblem('https://example.com/m.gguf')).toBeUndefined();
    expect(downloadInputProblem('http://127.0.0.1:8000/m.gguf')).toBeUndefined();
    expect(downloadInputProblem('')).toMatch(/Enter an hf: model URI/);
    expect(downloadInputProblem('hf:just-a-name')).toMatch(/hf:owner\/repo\/file.gguf/);
    expect(downloadInputProblem('ftp://example.com/m.gguf')).toMatch(/neither/);
  });
});

describe('alerts', () => {
  const alert = (id: string, at: string): Alert => ({
    id,
    at,
    kind: 'thermal',
    severity: 'warning',
    message: id,
  });

  it('lists alerts newest first, once each, without the dismissed ones', () => {
    const alerts = [
      alert('old', '2025-01-01T10:00:00Z'),
      alert('new', '2025-01-01T12:00:00Z'),
      alert('mid', '2025-01-01T11:00:00Z'),
      alert('new', '2025-01-01T12:00:00Z'),
    ];
    expect(visibleAlerts(alerts, new Set()).map((a) => a.id)).toEqual(['new', 'mid', 'old']);
    expect(visibleAlerts(alerts, new Set(['mid'])).map((a) => a.id)).toEqual(['new', 'old']);
  });
});

describe('health gauges', () => {
  it('reads used and total from the figures a check reports', () => {
    expect(gaugeFigures({ totalBytes: 100, freeBytes: 40 })).toEqual({ used: 60, total: 100 });
    expect(gaugeFigures({ totalBytes: 100, usedBytes: 10 })).toEqual({ used: 10, total: 100 });
    expect(gaugeFigures({ vramTotalBytes: 8, vramUsedBytes: 2 }, 'vram')).toEqual({ used: 2, total: 8 });
    // No GPU memory (CPU backend): no gauge rather than an empty one.
    expect(gaugeFigures({ vramTotalBytes: 0, vramUsedBytes: 0 }, 'vram')).toBeUndefined();
    expect(gaugeFigures({})).toBeUndefined();
  });
});

describe('status header', () => {
  it("shows the server's status while connected and 'stopped' once it stops answering", () => {
    const state = { status: 'ready' } as Parameters<typeof shownStatus>[0];
    expect(shownStatus(state, 'open')).toBe('ready');
    expect(shownStatus(state, 'reconnecting')).toBe('stopped');
    expect(shownStatus(undefined, 'connecting')).toBe('connecting');
  });
});

describe('settings form', () => {
  const config: ServerConfig = {
    port: 1235,
    lan: false,
    apiKey: null,
    adminKey: '[set]',
    queue: { maxQueued: 64, timeoutMs: 30_000 },
    rateLimit: { inferencePerMinute: 60, adminPerMinute: 10, exemptLoopback: false },
    models: { ttlSeconds: 0 },
    helpers: [],
    helperBreaker: { failureThreshold: 3, resetTimeoutMs: 30_000 },
  };

  it('sends only what changed, nested keys included', () => {
    const form = {
      ...formFromConfig(config),
      port: '8080',
      adminPerMinute: '120',
      queueTimeoutSeconds: '45',
      resetTimeoutMs: '1500',
    };
    expect(patchFromForm(config, form)).toEqual({
      patch: {
        port: 8080,
        rateLimit: { adminPerMinute: 120 },
        queue: { timeoutMs: 45_000 },
        helperBreaker: { resetTimeoutMs: 1500 },
      },
    });
    expect(patchFromForm(config, formFromConfig(config))).toEqual({ patch: {} });
  });

  it('names the field of an impossible value before asking the server', () => {
    expect(patchFromForm(config, { ...formFromConfig(config), port: '70000' })).toMatchObject({
      field: 'port',
      problem: expect.stringMatching(/Port must be a whole number from 0 to 65,535/),
    });
    expect(patchFromForm(config, { ...formFromConfig(config), apiKeyOn: true })).toMatchObject({
      field: 'apiKey',
    });
    expect(patchFromForm(config, { ...formFromConfig(config), failureThreshold: '0' })).toMatchObject({
      field: 'failureThreshold',
    });
  });

  it('turns the API key on with a value and off with null, never echoing "[set]" back', () => {
    expect(patchFromForm(config, { ...formFromConfig(config), apiKeyOn: true, apiKey: 'sk-team' })).toEqual({
      patch: { apiKey: 'sk-team' },
    });
    const withKey = { ...config, apiKey: '[set]' };
    expect(patchFromForm(withKey, formFromConfig(withKey))).toEqual({ patch: {} });
    expect(patchFromForm(withKey, { ...formFromConfig(withKey), apiKeyOn: false })).toEqual({
      patch: { apiKey: null },
    });
  });
});

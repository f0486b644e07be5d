// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { LmxClient, type FetchLike } from '../../renderer/api/client.ts';
import type { Alert, ConfigResponse, ModelEntry, PeerNode } from '../../renderer/api/types.ts';
import { AlertsPanel } from '../../renderer/components/AlertsPanel.tsx';
import { ClusterPanel } from '../../renderer/components/ClusterPanel.tsx';
import { ModelsPanel } from '../../renderer/components/ModelsPanel.tsx';
import { SettingsPanel } from '../../renderer/components/SettingsPanel.tsx';
import type { NativeBridge, NativeStatus } from '../../renderer/native-bridge.ts';

afterEach(cleanup);

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** A client whose server answers by method and path; every request is recorded. */
function clientAnswering(routes: Record<string, (body: unknown) => Response>) {
  const requests: { route: string; body: unknown }[] = [];
  const fetch: FetchLike = async (url, init) => {
    const route = `${init?.method ?? 'GET'} ${url}`;
    const body = init?.body ? (JSON.parse(String(init.body)) as unknown) : undefined;
    requests.push({ route, body });
    const answer = routes[route];
    if (!answer)
      return json({ error: { message: 'nope', type: 'x', param: null, code: 'unknown_route' } }, 404);
    return answer(body);
  };
  return { client: new LmxClient('', 'lmx-test-key', fetch), requests };
}

const alert = (id: string, kind: Alert['kind'], at: string): Alert => ({
  id,
  kind,
  at,
  severity: 'critical',
  message: `${id} message`,
});

describe('AlertsPanel', () => {
  it('shows alerts in the given order, dismisses one, and exits safe mode through the API', async () => {
    const { client, requests } = clientAnswering({
      'POST /admin/safe-mode/exit': () => json({ safeMode: { active: false, reason: null } }),
    });
    const dismissed: string[] = [];
    let exited = 0;
    render(
      <AlertsPanel
        client={client}
        alerts={[
          alert('hot', 'thermal', '2025-01-01T12:00:00Z'),
          alert('safe', 'safe_mode', '2025-01-01T11:00:00Z'),
        ]}
        onDismiss={(id) => dismissed.push(id)}
        onSafeModeExited={() => (exited += 1)}
      />,
    );
    const items = within(screen.getByRole('list', { name: 'Alerts, newest first' })).getAllByRole('listitem');
    expect(items.map((item) => item.querySelector('p')?.textContent)).toEqual([
      'hot message',
      'safe message',
    ]);
    fireEvent.click(screen.getByRole('button', { name: 'Dismiss alert: Mac is hot' }));
    expect(dismissed).toEqual(['hot']);
    fireEvent.click(screen.getByRole('button', { name: 'Exit safe mode' }));
    await waitFor(() => expect(exited).toBe(1));
    expect(requests.map((request) => request.route)).toEqual(['POST /admin/safe-mode/exit']);
    expect(dismissed).toEqual(['hot', 'safe']);
  });

  it('says so when all is well', () => {
    const { client } = clientAnswering({});
    render(<AlertsPanel client={client} alerts={[]} onDismiss={() => {}} onSafeModeExited={() => {}} />);
    expect(screen.getByText('No alerts. All is well.')).toBeTruthy();
  });
});

const model: ModelEntry = {
  id: 'big-model',
  path: '/models/big-model.gguf',
  sizeBytes: 8 * 1024 ** 3,
  architecture: 'llama',
  parameters: 13_000_000_000,
  quantization: 'Q4_K_M',
  trainedContext: 8192,
  kind: 'chat',
  state: 'unloaded',
  error: null,
  loaded: null,
};

describe('ModelsPanel', () => {
  it('shows what a model is, and a refused load in plain words next to it', async () => {
    const { client } = clientAnswering({
      'POST /admin/models/load': () =>
        json(
          {
            error: {
              message: 'big-model needs 9.1 GB but 3.2 GB are free.',
              type: 'insufficient_storage_error',
              param: 'model',
              code: 'insufficient_memory',
            },
          },
          507,
        ),
    });
    render(
      <ModelsPanel client={client} models={{ value: [model], error: undefined }} onChanged={() => {}} />,
    );
    const row = screen.getByRole('listitem', { name: 'big-model' });
    expect(row.textContent).toContain('8.0 GB · Q4_K_M · 8.2K context · 13B params');
    fireEvent.click(within(row).getByRole('button', { name: 'Load big-model' }));
    const message = await within(row).findByRole('alert');
    expect(message.textContent).toMatch(/Not enough free memory.*9\.1 GB.*Unload another model/);
  });

  it('asks before deleting a model from disk', async () => {
    const { client, requests } = clientAnswering({
      'DELETE /admin/models/big-model': () => new Response(null, { status: 204 }),
    });
    let changed = 0;
    render(
      <ModelsPanel
        client={client}
        models={{ value: [model], error: undefined }}
        onChanged={() => (changed += 1)}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Delete big-model' }));
    expect(requests).toEqual([]);
    fireEvent.click(screen.getByRole('button', { name: 'Confirm deleting big-model from disk' }));
    await waitFor(() => expect(changed).toBe(1));
    expect(requests.map((request) => request.route)).toEqual(['DELETE /admin/models/big-model']);
  });
});

const configResponse: ConfigResponse = {
  config: {
    port: 1235,
    lan: false,
    apiKey: null,
    adminKey: '[set]',
    queue: { maxQueued: 64, timeoutMs: 30_000 },
    rateLimit: { inferencePerMinute: 60, adminPerMinute: 10, exemptLoopback: false },
    models: { ttlSeconds: 0 },
    helpers: [{ name: 'studio', url: 'http://studio.local:1235' }],
    helperBreaker: { failureThreshold: 3, resetTimeoutMs: 30_000 },
  },
  restartRequired: [],
};

describe('SettingsPanel', () => {
  it('saves the changed keys and says which need a restart', async () => {
    const { client, requests } = clientAnswering({
      'GET /admin/config': () => json(configResponse),
      'PUT /admin/config': (body) =>
        json({ config: { ...configResponse.config, ...(body as object) }, restartRequired: ['port'] }),
    });
    render(<SettingsPanel client={client} bridge={undefined} onKeyRotated={() => {}} />);
    fireEvent.change(await screen.findByLabelText('Port'), { target: { value: '8080' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect((await screen.findByText(/^Saved\./)).textContent).toBe('Saved. Restart LMX to apply: Port.');
    expect(requests.at(-1)).toEqual({ route: 'PUT /admin/config', body: { port: 8080 } });
  });

  it('lists the helper nodes and saves the breaker numbers', async () => {
    const { client, requests } = clientAnswering({
      'GET /admin/config': () => json(configResponse),
      'PUT /admin/config': () => json({ config: configResponse.config, restartRequired: [] }),
    });
    render(<SettingsPanel client={client} bridge={undefined} onKeyRotated={() => {}} />);
    expect((await screen.findByText(/^Configured: /)).textContent).toMatch(/^Configured: studio\./);
    fireEvent.change(screen.getByLabelText("Failures before a helper's circuit opens"), {
      target: { value: '5' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect((await screen.findByText(/^Saved\./)).textContent).toBe('Saved.');
    expect(requests.at(-1)).toEqual({
      route: 'PUT /admin/config',
      body: { helperBreaker: { failureThreshold: 5 } },
    });
  });

  it("shows the server's refusal of a value", async () => {
    const { client } = clientAnswering({
      'GET /admin/config': () => json(configResponse),
      'PUT /admin/config': () =>
        json(
          {
            error: {
              message: "Invalid value for 'port': must be >= 0.",
              type: 'invalid_request_error',
              param: 'port',
              code: 'invalid_value',
            },
          },
          400,
        ),
    });
    render(<SettingsPanel client={client} bridge={undefined} onKeyRotated={() => {}} />);
    fireEvent.change(await screen.findByLabelText('Longest queue'), { target: { value: '5' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save settings' }));
    expect((await screen.findByRole('alert')).textContent).toBe("Invalid value for 'port': must be >= 0.");
  });

  it('reveals and rotates the admin key', async () => {
    const { client } = clientAnswering({
      'GET /admin/config': () => json(configResponse),
      'POST /admin/keys/rotate': () => json({ adminKey: 'lmx-rotated-key' }),
    });
    const rotated: string[] = [];
    render(<SettingsPanel client={client} bridge={undefined} onKeyRotated={(key) => rotated.push(key)} />);
    const key = screen.getByLabelText('Admin key');
    expect(key.textContent).not.toContain('lmx-test-key');
    fireEvent.click(screen.getByRole('button', { name: 'Reveal' }));
    expect(key.textContent).toBe('lmx-test-key');
    fireEvent.click(screen.getByRole('button', { name: 'Rotate…' }));
    fireEvent.click(screen.getByRole('button', { name: 'Rotate now' }));
    await waitFor(() => expect(rotated).toEqual(['lmx-rotated-key']));
    expect(screen.getByLabelText('Admin key').textContent).toBe('lmx-rotated-key');
  });

  it('hides native controls in a browser and shows them when the app bridge exists', async () => {
    const { client } = clientAnswering({ 'GET /admin/config': () => json(configResponse) });
    const { unmount } = render(<SettingsPanel client={client} bridge={undefined} onKeyRotated={() => {}} />);
    await screen.findByLabelText('Port');
    expect(screen.queryByRole('switch', { name: 'Open LMX at login' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Quit LMX' })).toBeNull();
    unmount();

    let status: NativeStatus = {
      serverUrl: 'http://127.0.0.1:1235',
      launchAtLogin: false,
      launchAtLoginNeedsApproval: false,
      autoUpdate: true,
      keepAwake: { policy: 'never', held: false },
      lastError: null,
    };
    const calls: string[] = [];
    const bridge: NativeBridge = {
      getConnection: async () => ({ url: 'http://127.0.0.1:1235', adminKey: 'k' }),
      getStatus: async () => status,
      setLaunchAtLogin: async (enabled) => {
        calls.push(`login ${enabled}`);
        // macOS 13+ registers the item but waits for the user's approval: the switch stays off.
        return (status = { ...status, launchAtLogin: false, launchAtLoginNeedsApproval: enabled });
      },
      openLoginItemsSettings: async () => void calls.push('login items'),
      setAutoUpdate: async (enabled) => {
        calls.push(`updates ${enabled}`);
        return (status = { ...status, autoUpdate: enabled });
      },
      adminKeyRotated: async (key) => void calls.push(`rotated ${key}`),
      setKeepAwake: async (policy) => {
        calls.push(`awake ${policy}`);
        return (status = { ...status, keepAwake: { policy, held: false } });
      },
      revealLogs: async () => void calls.push('logs'),
      quit: async () => void calls.push('quit'),
      onStatus: () => () => {},
    };
    render(<SettingsPanel client={client} bridge={bridge} onKeyRotated={() => {}} />);
    const login = await screen.findByRole('switch', { name: 'Open LMX at login' });
    await waitFor(() => expect((login as HTMLButtonElement).disabled).toBe(false));
    expect(screen.queryByRole('button', { name: 'Open Login Items' })).toBeNull();
    await act(async () => fireEvent.click(login));
    expect(login.getAttribute('aria-checked')).toBe('false');
    expect(screen.getByRole('status').textContent).toMatch(/System Settings → General → Login Items/);
    fireEvent.click(screen.getByRole('button', { name: 'Open Login Items' }));
    const updates = screen.getByRole('switch', { name: 'Install updates automatically' });
    expect(updates.getAttribute('aria-checked')).toBe('true');
    await act(async () => fireEvent.click(updates));
    expect(updates.getAttribute('aria-checked')).toBe('false');
    await act(async () =>
      fireEvent.change(screen.getByLabelText('Keep the Mac awake'), {
        target: { value: 'while-model-loaded' },
      }),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Show logs' }));
    await waitFor(() =>
      expect(calls).toEqual([
        'login true',
        'login items',
        'updates false',
        'awake while-model-loaded',
        'logs',
      ]),
    );
  });
});

describe('ClusterPanel', () => {
  const peer = (url: string, fields: Partial<PeerNode>): PeerNode => ({
    url,
    reachable: true,
    ready: true,
    reason: null,
    models: ['alpha'],
    queued: 0,
    inflight: 0,
    tokensPerSecond: null,
    ...fields,
  });

  it("shows each peer's readiness, models, queue and tokens/s", async () => {
    const { client } = clientAnswering({
      'GET /admin/cluster': () =>
        json({
          peers: [
            peer('http://10.0.0.12:1235', { inflight: 2, queued: 3, tokensPerSecond: 41.25 }),
            peer('http://10.0.0.13:1235', { ready: false, reason: 'safe_mode', models: [] }),
            peer('http://10.0.0.14:1235', { reachable: false, ready: false, reason: 'unreachable: timeout' }),
          ],
        }),
    });
    render(<ClusterPanel client={client} />);
    const first = await screen.findByRole('listitem', { name: 'http://10.0.0.12:1235' });
    expect(within(first).getByText('10.0.0.12:1235')).toBeTruthy();
    expect(within(first).getByText('ready')).toBeTruthy();
    expect(within(first).getByText('alpha')).toBeTruthy();
    expect(within(first).getByText('41.3 tok/s')).toBeTruthy();
    expect(within(first).getByText('3')).toBeTruthy();
    const second = screen.getByRole('listitem', { name: 'http://10.0.0.13:1235' });
    expect(within(second).getByText('safe mode')).toBeTruthy();
    expect(within(second).getByText('none')).toBeTruthy();
    const third = screen.getByRole('listitem', { name: 'http://10.0.0.14:1235' });
    expect(within(third).getByText('unreachable')).toBeTruthy();
    expect(within(third).queryByText('Models')).toBeNull();
  });

  it('shows nothing when no peers are configured', async () => {
    const { client, requests } = clientAnswering({ 'GET /admin/cluster': () => json({ peers: [] }) });
    const { container } = render(<ClusterPanel client={client} />);
    await waitFor(() => expect(requests.map((request) => request.route)).toEqual(['GET /admin/cluster']));
    expect(container.innerHTML).toBe('');
  });
});

import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import type { LmxClient } from '../api/client.ts';
import type { ConfigResponse } from '../api/types.ts';
import { describeError } from '../format.ts';
import type { NativeBridge } from '../native-bridge.ts';
import { formFromConfig, patchFromForm, RESTART_WORDS, type SettingsForm } from '../settings-form.ts';
import { AdminKeyBox } from './AdminKeyBox.tsx';
import { NativeControls } from './NativeControls.tsx';
import { ErrorText, Panel } from './Panel.tsx';
import { Switch } from './Switch.tsx';

export function SettingsPanel({
  client,
  bridge,
  onKeyRotated,
}: {
  client: LmxClient;
  bridge: NativeBridge | undefined;
  onKeyRotated(key: string): void;
}) {
  const [loaded, setLoaded] = useState<ConfigResponse>();
  const [form, setForm] = useState<SettingsForm>();
  const [loadError, setLoadError] = useState<string>();
  const [problem, setProblem] = useState<{ text: string; field?: keyof SettingsForm }>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    client.config().then(
      (response) => {
        if (!live) return;
        setLoaded(response);
        setForm(formFromConfig(response.config));
      },
      (error: unknown) => live && setLoadError(describeError(error)),
    );
    return () => {
      live = false;
    };
  }, [client]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    if (!loaded || !form) return;
    setSaved(undefined);
    const result = patchFromForm(loaded.config, form);
    if ('problem' in result) {
      setProblem({ text: result.problem, field: result.field });
      return;
    }
    if (Object.keys(result.patch).length === 0) {
      setProblem(undefined);
      setSaved('Nothing changed.');
      return;
    }
    setBusy(true);
    try {
      const response = await client.updateConfig(result.patch);
      setLoaded(response);
      setForm(formFromConfig(response.config));
      setProblem(undefined);
      const restart = response.restartRequired.map((key) => RESTART_WORDS[key] ?? key);
      setSaved(restart.length ? `Saved. Restart LMX to apply: ${restart.join(', ')}.` : 'Saved.');
    } catch (error) {
      setProblem({ text: describeError(error) });
    } finally {
      setBusy(false);
    }
  };

  const set = <K extends keyof SettingsForm>(key: K, value: SettingsForm[K]) =>
    setForm((previous) => previous && { ...previous, [key]: value });
  const invalid = (field: keyof SettingsForm) => problem?.field === field || undefined;

  return (
    <Panel id="settings" title="Settings">
      <ErrorText>{loadError}</ErrorText>
      {form && (
        <form className="settings" onSubmit={(event) => void save(event)} noValidate>
          <fieldset>
            <legend>Server</legend>
            <NumberField
              id="port"
              label="Port"
              hint="Needs a restart."
              value={form.port}
              invalid={invalid('port')}
              onChange={(v) => set('port', v)}
            />
            <Row label="Share on the local network" hint="Needs a restart.">
              <Switch checked={form.lan} label="Share on the local network" onChange={(v) => set('lan', v)} />
            </Row>
            <Row label="Require an API key">
              <Switch
                checked={form.apiKeyOn}
                label="Require an API key"
                onChange={(v) => set('apiKeyOn', v)}
              />
            </Row>
            {form.apiKeyOn && (
              <div className="field">
                <label htmlFor="api-key">API key</label>
                <input
                  id="api-key"
                  className="input"
                  type="password"
                  autoComplete="new-password"
                  placeholder={
                    loaded?.config.apiKey != null
                      ? 'Set — leave empty to keep it'
                      : 'The key clients must send'
                  }
                  value={form.apiKey}
                  aria-invalid={invalid('apiKey')}
                  onChange={(event) => set('apiKey', event.target.value)}
                />
              </div>
            )}
          </fieldset>
          <fieldset>
            <legend>Limits</legend>
            <NumberField
              id="rate-inference"
              label="Requests per minute, per client"
              value={form.inferencePerMinute}
              invalid={invalid('inferencePerMinute')}
              onChange={(v) => set('inferencePerMinute', v)}
            />
            <NumberField
              id="rate-admin"
              label="Admin requests per minute"
              value={form.adminPerMinute}
              invalid={invalid('adminPerMinute')}
              onChange={(v) => set('adminPerMinute', v)}
            />
            <NumberField
              id="queue-max"
              label="Longest queue"
              hint="Requests waiting beyond this are turned away."
              value={form.maxQueued}
              invalid={invalid('maxQueued')}
              onChange={(v) => set('maxQueued', v)}
            />
            <NumberField
              id="queue-timeout"
              label="Longest wait in the queue (seconds)"
              value={form.queueTimeoutSeconds}
              invalid={invalid('queueTimeoutSeconds')}
              onChange={(v) => set('queueTimeoutSeconds', v)}
            />
            <NumberField
              id="ttl"
              label="Unload idle models after (seconds)"
              hint="0 keeps them loaded."
              value={form.ttlSeconds}
              invalid={invalid('ttlSeconds')}
              onChange={(v) => set('ttlSeconds', v)}
            />
          </fieldset>
          <fieldset>
            <legend>Helper nodes</legend>
            <p className="muted small-text">
              {loaded && loaded.config.helpers.length > 0
                ? `Configured: ${loaded.config.helpers.map((helper) => helper.name).join(', ')}.`
                : 'None configured.'}{' '}
              Helpers are listed in config.json (or set with PUT /admin/config); these apply at once.
            </p>
            <NumberField
              id="breaker-failures"
              label="Failures before a helper's circuit opens"
              value={form.failureThreshold}
              invalid={invalid('failureThreshold')}
              onChange={(v) => set('failureThreshold', v)}
            />
            <NumberField
              id="breaker-reset"
              label="Half-open after (milliseconds)"
              hint="An open circuit lets one trial call through after this long."
              value={form.resetTimeoutMs}
              invalid={invalid('resetTimeoutMs')}
              onChange={(v) => set('resetTimeoutMs', v)}
            />
          </fieldset>
          {problem && (
            <p className="error-text" role="alert">
              {problem.text}
            </p>
          )}
          {saved && (
            <p className="note" role="status">
              {saved}
            </p>
          )}
          <div className="actions">
            <button type="submit" className="button primary" disabled={busy}>
              Save settings
            </button>
          </div>
        </form>
      )}
      <AdminKeyBox client={client} onRotated={onKeyRotated} />
      {bridge && <NativeControls bridge={bridge} />}
    </Panel>
  );
}

function NumberField({
  id,
  label,
  hint,
  value,
  invalid,
  onChange,
}: {
  id: string;
  label: string;
  hint?: string;
  value: string;
  invalid: true | undefined;
  onChange(value: string): void;
}) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        className="input number"
        type="text"
        inputMode="numeric"
        value={value}
        aria-invalid={invalid}
        aria-describedby={hint ? `${id}-hint` : undefined}
        onChange={(event) => onChange(event.target.value)}
      />
      {hint && (
        <span id={`${id}-hint`} className="muted small-text">
          {hint}
        </span>
      )}
    </div>
  );
}

function Row({ label, hint, children }: { label: string; hint?: string; children: ReactNode }) {
  return (
    <div className="row">
      <span>
        {label}
        {hint && <span className="muted small-text"> — {hint}</span>}
      </span>
      {children}
    </div>
  );
}

import { useEffect, useState } from 'react';
import type { KeepAwakePolicy, NativeBridge, NativeStatus } from '../native-bridge.ts';
import { ErrorText } from './Panel.tsx';
import { Switch } from './Switch.tsx';

const KEEP_AWAKE_CHOICES: { value: KeepAwakePolicy; label: string }[] = [
  { value: 'never', label: 'Never' },
  { value: 'while-model-loaded', label: 'While a model is loaded' },
  { value: 'while-serving-requests', label: 'While serving requests' },
];

/** Controls only the menu-bar app has (through its preload bridge); absent in a browser. */
export function NativeControls({ bridge }: { bridge: NativeBridge }) {
  const [status, setStatus] = useState<NativeStatus>();
  const [error, setError] = useState<string>();

  useEffect(() => {
    bridge.getStatus().then(setStatus, (caught: unknown) => setError(String(caught)));
    return bridge.onStatus(setStatus);
  }, [bridge]);

  const attempt = (action: () => Promise<NativeStatus | void>) =>
    action().then(
      (next) => next && setStatus(next),
      (caught: unknown) => setError(caught instanceof Error ? caught.message : String(caught)),
    );

  return (
    <fieldset>
      <legend>This Mac</legend>
      <div className="row">
        <span>Open LMX at login</span>
        <Switch
          checked={status?.launchAtLogin ?? false}
          disabled={!status}
          label="Open LMX at login"
          onChange={(next) => void attempt(() => bridge.setLaunchAtLogin(next))}
        />
      </div>
      {status?.launchAtLoginNeedsApproval && (
        <div className="row" role="status">
          <span className="muted">
            macOS asks you to allow LMX: System Settings → General → Login Items, then switch LMX on.
          </span>
          <button
            type="button"
            className="button small"
            onClick={() => void attempt(() => bridge.openLoginItemsSettings())}
          >
            Open Login Items
          </button>
        </div>
      )}
      <div className="row">
        <span>Install updates automatically</span>
        <Switch
          checked={status?.autoUpdate ?? false}
          disabled={!status}
          label="Install updates automatically"
          onChange={(next) => void attempt(() => bridge.setAutoUpdate(next))}
        />
      </div>
      <div className="row">
        <label htmlFor="keep-awake">Keep the Mac awake</label>
        <select
          id="keep-awake"
          className="input narrow"
          value={status?.keepAwake.policy ?? 'never'}
          disabled={!status}
          onChange={(event) => void attempt(() => bridge.setKeepAwake(event.target.value as KeepAwakePolicy))}
        >
          {KEEP_AWAKE_CHOICES.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      </div>
      <div className="actions">
        <button
          type="button"
          className="button small"
          onClick={() => void attempt(() => bridge.revealLogs())}
        >
          Show logs
        </button>
        <button
          type="button"
          className="button small danger"
          onClick={() => void attempt(() => bridge.quit())}
        >
          Quit LMX
        </button>
      </div>
      <ErrorText>{error ?? status?.lastError ?? undefined}</ErrorText>
    </fieldset>
  );
}

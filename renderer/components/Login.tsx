import { useState, type FormEvent } from 'react';
import { ApiError, LmxClient } from '../api/client.ts';
import { describeError } from '../format.ts';

/** The browser's way in: the admin key, checked against the server before it is kept for the session. */
export function Login({
  baseUrl,
  notice,
  onSignedIn,
}: {
  baseUrl: string;
  notice?: string;
  onSignedIn(client: LmxClient): void;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const candidate = key.trim();
    if (!candidate) {
      setError('Enter the admin key.');
      return;
    }
    setBusy(true);
    setError(undefined);
    const client = new LmxClient(baseUrl, candidate);
    try {
      await client.state();
      onSignedIn(client);
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'That admin key was refused. Check it and try again.'
          : describeError(caught),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <h1>LMX</h1>
      <p className="muted">Sign in with this server's admin key to manage it.</p>
      {notice && !error && (
        <p className="note" role="status">
          {notice}
        </p>
      )}
      <form onSubmit={(event) => void submit(event)} noValidate>
        <div className="field">
          <label htmlFor="admin-key">Admin key</label>
          <input
            id="admin-key"
            className="input"
            type="password"
            autoComplete="current-password"
            value={key}
            onChange={(event) => setKey(event.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby="admin-key-help"
            autoFocus
          />
          <span id="admin-key-help" className="muted small-text">
            It is in the admin-key file of the LMX data folder, and in the menu-bar app's settings.
          </span>
        </div>
        {error && (
          <p className="error-text" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}

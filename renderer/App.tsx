import { useCallback, useEffect, useState } from 'react';
import { LmxClient } from './api/client.ts';
import { Dashboard } from './components/Dashboard.tsx';
import { Login } from './components/Login.tsx';
import { nativeBridge } from './native-bridge.ts';

/** In a browser the key lives for the tab's session only; in the app it comes from the preload. */
export const SESSION_KEY = 'lmx.adminKey';

/** Why the tab was signed out, kept until the next sign-in so a reload still says it. */
const SIGNED_OUT_NOTICE = 'lmx.signedOutNotice';

function stored(name: string): string | null {
  try {
    return sessionStorage.getItem(name);
  } catch {
    return null;
  }
}

function store(name: string, value: string | null): void {
  try {
    if (value) sessionStorage.setItem(name, value);
    else sessionStorage.removeItem(name);
  } catch {
    // Storage can be disabled; the value then lasts as long as the page.
  }
}

export function App() {
  const bridge = nativeBridge();
  const [client, setClient] = useState<LmxClient | undefined>(() => {
    const key = bridge ? null : stored(SESSION_KEY);
    return key ? new LmxClient('', key) : undefined;
  });
  const [notice, setNotice] = useState<string | undefined>(() => stored(SIGNED_OUT_NOTICE) ?? undefined);
  const [bridgeError, setBridgeError] = useState<string>();

  // In the app, the connection comes from the main process once its server listens (and again
  // after a restart, which may change the port).
  useEffect(() => {
    if (!bridge) return;
    let current: string | undefined;
    const connect = () =>
      bridge.getConnection().then(
        (connection) => {
          const id = connection && `${connection.url} ${connection.adminKey}`;
          if (!connection || id === current) return;
          current = id ?? undefined;
          setClient(new LmxClient(connection.url, connection.adminKey));
        },
        (error: unknown) => setBridgeError(`The app could not tell where its server is: ${String(error)}`),
      );
    void connect();
    return bridge.onStatus((status) => {
      if (status.serverUrl) void connect();
    });
  }, [bridge]);

  const signIn = useCallback((next: LmxClient) => {
    store(SESSION_KEY, next.key);
    store(SIGNED_OUT_NOTICE, null);
    setNotice(undefined);
    setClient(next);
  }, []);

  const onUnauthorized = useCallback(() => {
    if (bridge) return;
    const why = 'The admin key is no longer accepted (it may have been rotated). Sign in again.';
    store(SESSION_KEY, null);
    store(SIGNED_OUT_NOTICE, why);
    setClient(undefined);
    setNotice(why);
  }, [bridge]);

  // In a browser the tab keeps the new key; in the app, the main process must keep it, or the next
  // server start (after a crash or a relaunch) would bring the old one back.
  const onKeyRotated = useCallback(
    (key: string) => {
      if (!bridge) return store(SESSION_KEY, key);
      // The client already uses the new key (rotateAdminKey switched it).
      bridge
        .adminKeyRotated(key)
        .catch((error: unknown) =>
          setBridgeError(`The app could not keep the new admin key: ${String(error)}. Quit and reopen LMX.`),
        );
    },
    [bridge],
  );

  if (bridgeError)
    return (
      <p className="error-text" role="alert">
        {bridgeError}
      </p>
    );
  if (!client) {
    if (bridge) return <p className="muted centered">Connecting…</p>;
    return <Login baseUrl="" notice={notice} onSignedIn={signIn} />;
  }
  return (
    <Dashboard client={client} bridge={bridge} onUnauthorized={onUnauthorized} onKeyRotated={onKeyRotated} />
  );
}

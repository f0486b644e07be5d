import { useState } from 'react';
import type { LmxClient } from '../api/client.ts';
import { describeError } from '../format.ts';
import { CopyButton } from './CopyButton.tsx';
import { ErrorText } from './Panel.tsx';

/** The admin key: hidden until asked for, copyable, and rotatable (the old key stops working at once). */
export function AdminKeyBox({ client, onRotated }: { client: LmxClient; onRotated(key: string): void }) {
  const [revealed, setRevealed] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string>();
  const [note, setNote] = useState<string>();

  const rotate = async () => {
    setError(undefined);
    try {
      const key = await client.rotateAdminKey();
      onRotated(key);
      setNote('New admin key in force. Other windows and scripts need the new key.');
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setConfirming(false);
    }
  };

  const key = client.key;
  return (
    <fieldset className="admin-key">
      <legend>Admin key</legend>
      <div className="inline">
        <code className="key" aria-label="Admin key">
          {revealed ? key : '•'.repeat(Math.min(24, key.length))}
        </code>
      </div>
      <div className="actions">
        <button
          type="button"
          className="button small"
          aria-pressed={revealed}
          onClick={() => setRevealed(!revealed)}
        >
          {revealed ? 'Hide' : 'Reveal'}
        </button>
        <CopyButton value={key} label="Copy the admin key" />
        {confirming ? (
          <>
            <button type="button" className="button small danger" onClick={() => void rotate()}>
              Rotate now
            </button>
            <button type="button" className="button small" onClick={() => setConfirming(false)}>
              Keep current key
            </button>
          </>
        ) : (
          <button type="button" className="button small" onClick={() => setConfirming(true)}>
            Rotate…
          </button>
        )}
      </div>
      {confirming && <p className="note">The current key stops working immediately.</p>}
      {note && (
        <p className="note" role="status">
          {note}
        </p>
      )}
      <ErrorText>{error}</ErrorText>
    </fieldset>
  );
}

import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { LmxClient } from '../api/client.ts';
import type { ModelEntry } from '../api/types.ts';
import { describeError } from '../format.ts';
import { ErrorText, Panel } from './Panel.tsx';

/** One prompt, one streamed reply from a loaded model: proof that the endpoint works. */
export function TryIt({ client, models }: { client: LmxClient; models: ModelEntry[] | undefined }) {
  const loaded = (models ?? []).filter((model) => model.state === 'loaded');
  const [model, setModel] = useState('');
  const [prompt, setPrompt] = useState('Tell me a short story.');
  const [reply, setReply] = useState('');
  const [error, setError] = useState<string>();
  const [streaming, setStreaming] = useState(false);
  const [finished, setFinished] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);

  const chosen = loaded.some((entry) => entry.id === model) ? model : (loaded[0]?.id ?? '');
  useEffect(() => () => abort.current?.abort(), []);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!chosen || !prompt.trim()) return;
    abort.current = new AbortController();
    setReply('');
    setError(undefined);
    setFinished(false);
    setStreaming(true);
    try {
      await client.streamChat({
        model: chosen,
        prompt: prompt.trim(),
        signal: abort.current.signal,
        onText: (text) => setReply((previous) => previous + text),
      });
      setFinished(true);
    } catch (caught) {
      if (!abort.current.signal.aborted) setError(describeError(caught));
    } finally {
      setStreaming(false);
    }
  };

  return (
    <Panel id="try" title="Try it">
      {loaded.length === 0 ? (
        <p className="muted">Load a model to try it here.</p>
      ) : (
        <form className="try-form" onSubmit={(event) => void send(event)}>
          <div className="field">
            <label htmlFor="try-model">Model</label>
            <select
              id="try-model"
              className="input"
              value={chosen}
              onChange={(event) => setModel(event.target.value)}
            >
              {loaded.map((entry) => (
                <option key={entry.id} value={entry.id}>
                  {entry.id}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="try-prompt">Prompt</label>
            <div className="inline">
              <input
                id="try-prompt"
                className="input"
                type="text"
                value={prompt}
                onChange={(event) => setPrompt(event.target.value)}
                autoComplete="off"
              />
              {streaming ? (
                <button type="button" className="button" onClick={() => abort.current?.abort()}>
                  Stop
                </button>
              ) : (
                <button type="submit" className="button primary" disabled={!prompt.trim()}>
                  Send
                </button>
              )}
            </div>
          </div>
        </form>
      )}
      <ErrorText>{error}</ErrorText>
      {(reply || streaming) && (
        // Focusable: a long reply scrolls inside its box, and keyboard users must be able to scroll it.
        <div
          className="reply"
          role="log"
          tabIndex={0}
          aria-live="polite"
          aria-label="Reply"
          aria-busy={streaming}
        >
          {reply}
          {streaming && <span className="cursor" aria-hidden="true" />}
        </div>
      )}
      {finished && !error && (
        <p className="muted small-text" role="status">
          Reply complete.
        </p>
      )}
    </Panel>
  );
}

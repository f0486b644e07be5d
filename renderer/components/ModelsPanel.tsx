import { useState } from 'react';
import type { LmxClient } from '../api/client.ts';
import type { ModelEntry } from '../api/types.ts';
import { describeError, formatBytes, formatCount } from '../format.ts';
import type { Loadable } from '../hooks/use-server.ts';
import { ErrorText, Panel } from './Panel.tsx';

const STATE_LABEL: Record<ModelEntry['state'], string> = {
  unloaded: 'Not loaded',
  loading: 'Loading…',
  loaded: 'Loaded',
  unloading: 'Unloading…',
  failed: 'Failed',
};

/** "1.2 GB · Q4_K_M · 8K context · 7B" — what a person compares models by. */
export function modelSummary(model: ModelEntry): string {
  const parts = [formatBytes(model.sizeBytes)];
  if (model.quantization) parts.push(model.quantization);
  if (model.trainedContext) parts.push(`${formatCount(model.trainedContext)} context`);
  if (model.parameters) parts.push(`${formatCount(model.parameters)} params`);
  return parts.join(' · ');
}

export function ModelsPanel({
  client,
  models,
  onChanged,
}: {
  client: LmxClient;
  models: Loadable<ModelEntry[]>;
  onChanged(): void;
}) {
  const list = models.value;
  const loaded = list?.filter((model) => model.state === 'loaded').length ?? 0;
  return (
    <Panel id="models" title="Models" actions={list && <span className="muted">{loaded} loaded</span>}>
      <ErrorText>{models.error}</ErrorText>
      {list === undefined && !models.error && <p className="muted">Loading the library…</p>}
      {list?.length === 0 && (
        <p className="muted">No models yet. Download one below or put .gguf files in the models folder.</p>
      )}
      {list && list.length > 0 && (
        <ul className="model-list" aria-label="Model library">
          {list.map((model) => (
            <ModelRow key={model.id} client={client} model={model} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </Panel>
  );
}

function ModelRow({ client, model, onChanged }: { client: LmxClient; model: ModelEntry; onChanged(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [confirmDelete, setConfirmDelete] = useState(false);

  const run = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      onChanged();
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
      setConfirmDelete(false);
    }
  };

  const transitioning = model.state === 'loading' || model.state === 'unloading';
  const info = model.loaded;
  return (
    <li className="model" aria-label={model.id} data-state={model.state}>
      <div className="model-head">
        <span className="model-name">{model.id}</span>
        <span className={`badge state-${model.state}`}>{STATE_LABEL[model.state]}</span>
      </div>
      <div className="muted small-text">{modelSummary(model)}</div>
      {info && (
        <dl className="figures">
          <div>
            <dt>Memory</dt>
            <dd>{formatBytes(info.memoryBytes)}</dd>
          </div>
          <div>
            <dt>Slots busy</dt>
            <dd>
              {info.inflight} of {info.parallel}
            </dd>
          </div>
          <div>
            <dt>Queued</dt>
            <dd>{info.queued}</dd>
          </div>
          <div>
            <dt>Speed</dt>
            <dd>{info.tokensPerSecond == null ? '—' : `${info.tokensPerSecond.toFixed(1)} tok/s`}</dd>
          </div>
        </dl>
      )}
      {model.state === 'failed' && model.error && <ErrorText>Could not load: {model.error}</ErrorText>}
      <ErrorText>{error}</ErrorText>
      <div className="actions">
        {model.state === 'loaded' ? (
          <button
            type="button"
            className="button"
            disabled={busy}
            onClick={() => void run(() => client.unloadModel(model.id))}
            aria-label={`Unload ${model.id}`}
          >
            Unload
          </button>
        ) : (
          <button
            type="button"
            className="button primary"
            disabled={busy || transitioning}
            onClick={() => void run(() => client.loadModel(model.id))}
            aria-label={`Load ${model.id}`}
          >
            {model.state === 'loading' ? 'Loading…' : 'Load'}
          </button>
        )}
        {confirmDelete ? (
          <>
            <button
              type="button"
              className="button danger"
              disabled={busy}
              onClick={() => void run(() => client.deleteModel(model.id))}
              aria-label={`Confirm deleting ${model.id} from disk`}
            >
              Delete from disk
            </button>
            <button type="button" className="button" onClick={() => setConfirmDelete(false)}>
              Keep
            </button>
          </>
        ) : (
          <button
            type="button"
            className="button quiet"
            disabled={busy || (model.state !== 'unloaded' && model.state !== 'failed')}
            title={model.state === 'loaded' ? 'Unload the model before deleting it' : undefined}
            onClick={() => setConfirmDelete(true)}
            aria-label={`Delete ${model.id}`}
          >
            Delete
          </button>
        )}
      </div>
    </li>
  );
}

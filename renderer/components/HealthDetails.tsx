import type { HealthComponent } from '../api/types.ts';
import { formatBytes, formatTime } from '../format.ts';

// The parts of deep health that have more to show than a status: the helper nodes' circuit breakers
// (components `helper:<name>`) and the RAG store (component `rag`), read from their details.

type Details = Record<string, unknown>;

const text = (details: Details, key: string) =>
  typeof details[key] === 'string' ? (details[key] as string) : undefined;
const number = (details: Details, key: string) =>
  typeof details[key] === 'number' ? (details[key] as number) : undefined;

const CIRCUIT = {
  closed: { word: 'closed', badge: 'state-loaded' },
  half_open: { word: 'half-open', badge: 'state-loading' },
  open: { word: 'open', badge: 'state-failed' },
} as const;

const HELPER_PREFIX = 'helper:';

/** Each helper node with its breaker: state, failures against the threshold, and the last error. */
export function HelperNodes({ components }: { components: HealthComponent[] }) {
  const helpers = components.filter((component) => component.name.startsWith(HELPER_PREFIX));
  if (helpers.length === 0) return null;
  return (
    <section className="health-section" aria-labelledby="helpers-title">
      <h3 id="helpers-title">Helper nodes</h3>
      <ul className="peers">
        {helpers.map((component) => (
          <HelperRow key={component.name} component={component} />
        ))}
      </ul>
    </section>
  );
}

function HelperRow({ component }: { component: HealthComponent }) {
  const name = component.name.slice(HELPER_PREFIX.length);
  const { details } = component;
  const circuit = CIRCUIT[(text(details, 'circuit') ?? 'closed') as keyof typeof CIRCUIT] ?? CIRCUIT.closed;
  const url = text(details, 'url');
  const failures = number(details, 'failures');
  const threshold = number(details, 'failureThreshold');
  const retryAfter = number(details, 'retryAfterSeconds');
  const lastError = text(details, 'lastError');
  const lastErrorAt = text(details, 'lastErrorAt');
  return (
    <li className="model" aria-label={`Helper ${name}`}>
      <div className="model-head">
        <span className="model-name">{name}</span>
        <span className={`badge ${circuit.badge}`}>circuit {circuit.word}</span>
      </div>
      <dl className="figures">
        {url && (
          <div className="figure-wide">
            <dt>Address</dt>
            <dd>{new URL(url).host}</dd>
          </div>
        )}
        {failures !== undefined && (
          <div>
            <dt>Failures</dt>
            <dd>{threshold === undefined ? failures : `${failures} of ${threshold}`}</dd>
          </div>
        )}
        {retryAfter ? (
          <div>
            <dt>Retry in</dt>
            <dd>{retryAfter} s</dd>
          </div>
        ) : null}
      </dl>
      {lastError && (
        <p className="muted helper-error">
          Last error{lastErrorAt ? ` (${formatTime(lastErrorAt)})` : ''}: {lastError}
        </p>
      )}
    </li>
  );
}

interface CollectionCounts {
  name: string;
  model: string;
  documents: number;
  chunks: number;
}

/**
 * The RAG store: collections, documents, chunks, size on disk, last write, and each collection's counts;
 * or, before its first use, that it is not open yet (or why it could not open).
 */
export function RagStore({ components }: { components: HealthComponent[] }) {
  const rag = components.find((component) => component.name === 'rag');
  if (!rag) return null;
  const { details } = rag;
  if (details.opened === false) {
    return (
      <section className="health-section" aria-labelledby="rag-title">
        <h3 id="rag-title">RAG store</h3>
        <p className="muted">
          {text(details, 'error') ?? 'Not opened yet: the store opens when a request first uses it.'}
        </p>
      </section>
    );
  }
  const lastWrite = text(details, 'lastWriteAt');
  const collections = Array.isArray(details.byCollection) ? (details.byCollection as CollectionCounts[]) : [];
  return (
    <section className="health-section" aria-labelledby="rag-title">
      <h3 id="rag-title">RAG store</h3>
      <dl className="figures">
        <div>
          <dt>Collections</dt>
          <dd>{number(details, 'collections') ?? '—'}</dd>
        </div>
        <div>
          <dt>Documents</dt>
          <dd>{number(details, 'documents') ?? '—'}</dd>
        </div>
        <div>
          <dt>Chunks</dt>
          <dd>{number(details, 'chunks') ?? '—'}</dd>
        </div>
        <div>
          <dt>On disk</dt>
          <dd>{formatBytes(number(details, 'sizeBytes'))}</dd>
        </div>
        <div>
          <dt>Last write</dt>
          <dd>{lastWrite ? formatTime(lastWrite) : 'never'}</dd>
        </div>
      </dl>
      {collections.length > 0 && (
        <ul className="peers" aria-label="Collections">
          {collections.map((collection) => (
            <li key={collection.name} className="rag-collection" aria-label={`Collection ${collection.name}`}>
              <span className="component-name">{collection.name}</span>
              <span className="muted">{collection.model}</span>
              <span>
                {collection.documents} {collection.documents === 1 ? 'document' : 'documents'},{' '}
                {collection.chunks} {collection.chunks === 1 ? 'chunk' : 'chunks'}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

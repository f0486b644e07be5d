import { useState, type FormEvent } from 'react';
import type { LmxClient } from '../api/client.ts';
import type { DownloadJob } from '../api/types.ts';
import { describeError, formatBytes, formatPercent } from '../format.ts';
import { ErrorText, Panel } from './Panel.tsx';

/** Why an input is not something the server can download, or undefined when it looks right. */
export function downloadInputProblem(input: string): string | undefined {
  const value = input.trim();
  if (!value) return 'Enter an hf: model URI or a link to a .gguf file.';
  if (value.startsWith('hf:')) {
    return /^hf:[^/\s]+\/[^/\s]+(\/\S+|:\S+)?$/.test(value)
      ? undefined
      : 'An hf: URI looks like hf:owner/repo/file.gguf.';
  }
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return undefined;
  } catch {
    // falls through to the message below
  }
  return 'That is neither an hf: URI nor an http(s) link.';
}

/** Finished downloads listed below the box, newest first. */
const SHOWN_DOWNLOADS = 4;

const STATE_TEXT: Record<DownloadJob['state'], string> = {
  running: 'Downloading',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function DownloadBox({ client, downloads }: { client: LmxClient; downloads: DownloadJob[] }) {
  const [uri, setUri] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [started, setStarted] = useState<DownloadJob[]>([]);

  // Jobs the feed has not reported yet still show, from the POST's answer.
  const jobs = [...downloads, ...started.filter((job) => !downloads.some((known) => known.id === job.id))]
    .sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))
    // Running ones always show; of the finished, only the latest few.
    .filter((job, index) => job.state === 'running' || index < SHOWN_DOWNLOADS);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const problem = downloadInputProblem(uri);
    setError(problem);
    if (problem) return;
    setBusy(true);
    try {
      const job = await client.startDownload(uri.trim());
      setStarted((previous) => [job, ...previous]);
      setUri('');
    } catch (caught) {
      setError(describeError(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Panel id="download" title="Download a model">
      <form className="download-form" onSubmit={(event) => void submit(event)} noValidate>
        <label htmlFor="download-uri" className="visually-hidden">
          Model URI or link
        </label>
        <input
          id="download-uri"
          className="input"
          type="text"
          inputMode="url"
          autoComplete="off"
          spellCheck={false}
          placeholder="hf:owner/repo/file.gguf or https://…"
          value={uri}
          onChange={(event) => setUri(event.target.value)}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? 'download-error' : undefined}
        />
        <button type="submit" className="button primary" disabled={busy}>
          Download
        </button>
      </form>
      {error && (
        <p id="download-error" className="error-text" role="alert">
          {error}
        </p>
      )}
      {jobs.length > 0 && (
        <ul className="download-list" aria-label="Downloads">
          {jobs.map((job) => (
            <DownloadRow key={job.id} client={client} job={job} />
          ))}
        </ul>
      )}
    </Panel>
  );
}

function DownloadRow({ client, job }: { client: LmxClient; job: DownloadJob }) {
  const [error, setError] = useState<string>();
  const percent = formatPercent(job.bytesDone, job.bytesTotal);
  const figures =
    job.state === 'running'
      ? `${formatBytes(job.bytesDone)}${job.bytesTotal ? ` of ${formatBytes(job.bytesTotal)}` : ''} · ${formatBytes(job.speedBytesPerSecond)}/s`
      : job.state === 'done'
        ? formatBytes(job.bytesTotal ?? job.bytesDone)
        : '';
  const cancel = async () => {
    try {
      await client.cancelDownload(job.id);
    } catch (caught) {
      setError(describeError(caught));
    }
  };
  return (
    <li className="download" aria-label={`Download of ${job.fileName}`} data-state={job.state}>
      <div className="model-head">
        <span className="model-name">{job.fileName}</span>
        <span className={`badge download-${job.state}`}>
          {STATE_TEXT[job.state]} {job.state === 'running' && percent}
        </span>
      </div>
      {(job.state === 'running' || job.state === 'done') && (
        <progress
          className="progress"
          max={job.bytesTotal ?? undefined}
          value={job.state === 'running' && !job.bytesTotal ? undefined : job.bytesDone}
          aria-label={`Progress of ${job.fileName}`}
          aria-valuetext={percent || formatBytes(job.bytesDone)}
        />
      )}
      {(figures || job.state === 'running') && (
        <div className="download-foot">
          <span className="muted small-text">{figures}</span>
          {job.state === 'running' && (
            <button
              type="button"
              className="button small"
              onClick={() => void cancel()}
              aria-label={`Cancel download of ${job.fileName}`}
            >
              Cancel
            </button>
          )}
        </div>
      )}
      {job.state === 'failed' && <ErrorText>Download failed: {job.error ?? 'unknown reason'}</ErrorText>}
      <ErrorText>{error}</ErrorText>
    </li>
  );
}

import { lazy, Suspense, useEffect } from 'react';
import type { HealthComponent, HealthReport, Stats } from '../api/types.ts';
import type { Loadable } from '../hooks/use-server.ts';
import { Gauge } from './Gauge.tsx';
import { HelperNodes, RagStore } from './HealthDetails.tsx';
import { ErrorText, Panel } from './Panel.tsx';

// uPlot is loaded with the chart, after the first paint.
const StatsChart = lazy(() => import('./StatsChart.tsx'));

const STATUS_WORD = { ok: 'OK', degraded: 'Degraded', down: 'Down' } as const;

export interface GaugeFigures {
  used: number;
  total: number;
}

/**
 * Used and total bytes from a component's details, whichever way the check reports them
 * ({usedBytes,totalBytes}, {freeBytes,totalBytes}, or the VRAM-prefixed names).
 */
export function gaugeFigures(details: Record<string, unknown>, prefix = ''): GaugeFigures | undefined {
  const figure = (name: string) => {
    const value = details[prefix ? `${prefix}${name[0]?.toUpperCase()}${name.slice(1)}` : name];
    return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  };
  const total = figure('totalBytes');
  if (!total) return undefined;
  const used = figure('usedBytes');
  if (used !== undefined) return { used, total };
  const free = figure('freeBytes');
  return free === undefined ? undefined : { used: total - free, total };
}

function queueDepth(report: HealthReport | undefined, latest: Stats | undefined): number | undefined {
  const queued = report?.components.find((component) => component.name === 'queue')?.details.queued;
  if (typeof queued === 'number') return queued;
  return latest?.queued;
}

/** Latencies and memory change without events; while the panel is shown they are re-read this often. */
export const HEALTH_REFRESH_MS = 15_000;

export function HealthPanel({
  health,
  stats,
  refresh,
}: {
  health: Loadable<HealthReport>;
  stats: Stats[];
  refresh(): void;
}) {
  useEffect(() => {
    refresh();
    const timer = setInterval(refresh, HEALTH_REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);
  const report = health.value;
  const memory = report?.components.find((component) => component.name === 'memory');
  const gpu = report?.components.find((component) => component.name === 'gpu');
  const memoryFigures = memory && gaugeFigures(memory.details);
  const vramFigures = gpu && (gaugeFigures(gpu.details, 'vram') ?? gaugeFigures(gpu.details));
  const latest = stats.at(-1);
  const depth = queueDepth(report, latest);

  return (
    <Panel
      id="health"
      title="Health"
      actions={
        report && (
          <span className={`badge health-${report.status}`}>
            <span className={`status-dot status-${report.status}`} aria-hidden="true" />
            {STATUS_WORD[report.status]}
          </span>
        )
      }
    >
      <ErrorText>{health.error}</ErrorText>
      {report && (
        <ul className="components" aria-label="Components">
          {report.components.map((component) => (
            <ComponentRow key={component.name} component={component} />
          ))}
        </ul>
      )}
      {report && <HelperNodes components={report.components} />}
      {report && <RagStore components={report.components} />}
      {memoryFigures && <Gauge label="Memory" {...memoryFigures} />}
      {vramFigures && <Gauge label="VRAM" {...vramFigures} />}
      <dl className="figures">
        <div>
          <dt>Queue</dt>
          <dd>{depth ?? '—'}</dd>
        </div>
        <div>
          <dt>Running</dt>
          <dd>{latest?.inflight ?? '—'}</dd>
        </div>
        <div>
          <dt>Tokens/s</dt>
          <dd>{latest ? latest.tokensPerSecond.toFixed(1) : '—'}</dd>
        </div>
        <div>
          <dt>TTFT</dt>
          <dd>{latest?.ttftMs == null ? '—' : `${Math.round(latest.ttftMs)} ms`}</dd>
        </div>
      </dl>
      <Suspense fallback={<div className="chart-placeholder" />}>
        <StatsChart stats={stats} />
      </Suspense>
    </Panel>
  );
}

function ComponentRow({ component }: { component: HealthComponent }) {
  return (
    <li className="component">
      <span className={`status-dot status-${component.status}`} aria-hidden="true" />
      <span className="component-name">{component.name}</span>
      <span className={`component-status text-${component.status}`}>{STATUS_WORD[component.status]}</span>
      <span className="muted latency">
        {component.latencyMs.toFixed(component.latencyMs < 10 ? 1 : 0)} ms
      </span>
    </li>
  );
}

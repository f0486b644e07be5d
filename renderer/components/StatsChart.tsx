import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Stats } from '../api/types.ts';
import { useMediaQuery } from '../hooks/use-media-query.ts';
import { STATS_HISTORY } from '../hooks/use-server.ts';

const HEIGHT = 140;
/** As much time as the stats history holds (one sample every 2 s). */
const WINDOW_SECONDS = STATS_HISTORY * 2;

/** Columns uPlot plots: time in seconds, tokens/s, TTFT in ms (null where no request started). */
export function chartData(stats: readonly Stats[]): uPlot.AlignedData {
  return [
    stats.map((sample) => Date.parse(sample.at) / 1000),
    stats.map((sample) => sample.tokensPerSecond),
    stats.map((sample) => sample.ttftMs),
  ];
}

function cssColor(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

/** Live tokens/s and time-to-first-token, from the stats events (one every 2 s). */
export default function StatsChart({ stats }: { stats: readonly Stats[] }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  const dark = useMediaQuery('(prefers-color-scheme: dark)');
  const latest = useRef(stats);
  latest.current = stats;

  // The chart is rebuilt when the colour scheme changes (uPlot draws on a canvas with fixed colours).
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const text = cssColor('--muted');
    const grid = cssColor('--border');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const chart = new uPlot(
      {
        width: Math.max(200, element.clientWidth),
        height: HEIGHT,
        legend: { show: true, live: false },
        cursor: { show: false },
        scales: {
          // A fixed two-minute window ending at the newest sample, so one sample does not span years.
          x: { time: true, range: (_u, _min, max) => [max - WINDOW_SECONDS, max] },
          tps: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
          ms: { range: (_u, _min, max) => [0, Math.max(10, max * 1.1)] },
        },
        axes: [
          { ...axis, size: 28 },
          { ...axis, scale: 'tps', size: 40, label: undefined },
          { ...axis, scale: 'ms', side: 1, size: 44, grid: { show: false } },
        ],
        series: [
          {},
          { label: 'Tokens/s', scale: 'tps', stroke: cssColor('--accent'), width: 2 },
          { label: 'TTFT (ms)', scale: 'ms', stroke: cssColor('--warning'), width: 2, spanGaps: true },
        ],
      },
      chartData(latest.current),
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(200, element.clientWidth), height: HEIGHT }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
  }, [dark]);

  useEffect(() => {
    plot.current?.setData(chartData(stats));
  }, [stats]);

  return (
    <figure className="chart">
      <div ref={container} className="chart-canvas" role="img" aria-label={chartLabel(stats)} />
      {stats.length === 0 && (
        <figcaption className="muted small-text">Waiting for traffic figures…</figcaption>
      )}
    </figure>
  );
}

function chartLabel(stats: readonly Stats[]): string {
  const latest = stats.at(-1);
  if (!latest) return 'Throughput chart: no figures yet';
  return `Throughput chart: ${latest.tokensPerSecond.toFixed(1)} tokens per second now${
    latest.ttftMs == null ? '' : `, time to first token ${Math.round(latest.ttftMs)} ms`
  }`;
}

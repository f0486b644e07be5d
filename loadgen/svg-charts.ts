/**
 * Charts as plain SVG strings, drawn on the server side: the HTML report stays self-contained and
 * renders without scripts or network. Two kinds cover the report: grouped bars and lines.
 */

export const seriesColors = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2'];

const width = 640;
const height = 300;
const margin = { top: 48, right: 16, bottom: 52, left: 64 };
const plotWidth = width - margin.left - margin.right;
const plotHeight = height - margin.top - margin.bottom;

export interface BarGroup {
  label: string;
  /** One value per series, in series order; null when a series has no figure. */
  values: (number | null)[];
}

export interface BarChartSpec {
  id: string;
  title: string;
  unit: string;
  series: string[];
  groups: BarGroup[];
}

export function barChart(spec: BarChartSpec): string {
  const max = niceMax(Math.max(0, ...spec.groups.flatMap((group) => group.values.map((v) => v ?? 0))));
  const groupWidth = plotWidth / Math.max(1, spec.groups.length);
  const barWidth = Math.min(48, (groupWidth * 0.8) / Math.max(1, spec.series.length));
  const y = (value: number) => margin.top + plotHeight - (value / max) * plotHeight;
  const bars = spec.groups.flatMap((group, groupIndex) => {
    const start = margin.left + groupIndex * groupWidth + (groupWidth - barWidth * spec.series.length) / 2;
    const groupLabel = text(
      margin.left + (groupIndex + 0.5) * groupWidth,
      height - margin.bottom + 18,
      group.label,
      'middle',
    );
    return [
      groupLabel,
      ...group.values.map((value, seriesIndex) => {
        if (value === null) return '';
        const x = start + seriesIndex * barWidth;
        const top = y(value);
        return (
          `<rect class="bar" x="${fmt(x)}" y="${fmt(top)}" width="${fmt(barWidth - 2)}" height="${fmt(y(0) - top)}" fill="${color(seriesIndex)}">` +
          `<title>${escapeXml(`${spec.series[seriesIndex] ?? ''} ${group.label}: ${formatNumber(value)} ${spec.unit}`)}</title></rect>` +
          text(x + (barWidth - 2) / 2, top - 4, formatNumber(value), 'middle', 'value')
        );
      }),
    ];
  });
  return frame(spec.id, spec.title, [...yAxis(max, spec.unit), ...bars, legend(spec.series)]);
}

export interface LineSeries {
  name: string;
  points: [number, number][];
}

export interface LineChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  /** Draw steps (for cumulative distributions) instead of straight segments. */
  stepped?: boolean;
  yMax?: number;
}

export function lineChart(spec: LineChartSpec): string {
  const xs = spec.series.flatMap((series) => series.points.map(([x]) => x));
  const ys = spec.series.flatMap((series) => series.points.map(([, y]) => y));
  const xMax = niceMax(Math.max(0, ...xs));
  const yMax = spec.yMax ?? niceMax(Math.max(0, ...ys));
  const px = (x: number) => margin.left + (x / xMax) * plotWidth;
  const py = (y: number) => margin.top + plotHeight - (y / yMax) * plotHeight;
  const paths = spec.series.map((series, index) => {
    if (series.points.length === 0) return '';
    const commands = series.points.map(([x, y], pointIndex) => {
      if (pointIndex === 0) return `M${fmt(px(x))},${fmt(py(y))}`;
      return spec.stepped ? `H${fmt(px(x))}V${fmt(py(y))}` : `L${fmt(px(x))},${fmt(py(y))}`;
    });
    return `<path class="line" d="${commands.join('')}" fill="none" stroke="${color(index)}" stroke-width="2"><title>${escapeXml(series.name)}</title></path>`;
  });
  const xTicks = ticks(xMax).map(
    (tick) =>
      `<line x1="${fmt(px(tick))}" x2="${fmt(px(tick))}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight + 4}" stroke="#555"/>` +
      text(px(tick), margin.top + plotHeight + 16, formatNumber(tick), 'middle'),
  );
  return frame(spec.id, spec.title, [
    ...yAxis(yMax, spec.yLabel),
    ...xTicks,
    text(margin.left + plotWidth / 2, height - 8, spec.xLabel, 'middle', 'axis-label'),
    ...paths,
    legend(spec.series.map((series) => series.name)),
  ]);
}

/** Empirical cumulative distribution of a sample, as points for a stepped line (share in %). */
export function cdfPoints(samples: readonly number[]): [number, number][] {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted.map((value, index) => [value, ((index + 1) / sorted.length) * 100]);
}

function frame(id: string, title: string, parts: string[]): string {
  return (
    `<svg id="${escapeXml(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(title)}">` +
    `<rect width="${width}" height="${height}" fill="#fff"/>` +
    text(margin.left, 20, title, 'start', 'title') +
    parts.join('') +
    '</svg>'
  );
}

function yAxis(max: number, label: string): string[] {
  return [
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#555"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="#555"/>`,
    ...ticks(max).map((tick) => {
      const y = margin.top + plotHeight - (tick / max) * plotHeight;
      return (
        `<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${fmt(y)}" y2="${fmt(y)}" stroke="#e5e7eb"/>` +
        text(margin.left - 6, y + 4, formatNumber(tick), 'end')
      );
    }),
    `<text x="14" y="${margin.top + plotHeight / 2}" transform="rotate(-90 14 ${margin.top + plotHeight / 2})" text-anchor="middle" class="axis-label">${escapeXml(label)}</text>`,
  ];
}

function legend(names: string[]): string {
  return names
    .map((name, index) => {
      const x = margin.left + index * 200;
      return (
        `<rect x="${x}" y="27" width="10" height="10" fill="${color(index)}"/>` +
        text(x + 14, 36, name, 'start')
      );
    })
    .join('');
}

function text(x: number, y: number, content: string, anchor: 'start' | 'middle' | 'end', cls = ''): string {
  return `<text x="${fmt(x)}" y="${fmt(y)}" text-anchor="${anchor}"${cls ? ` class="${cls}"` : ''}>${escapeXml(content)}</text>`;
}

/** 0 and four more ticks up to max. */
function ticks(max: number): number[] {
  return [0, 1, 2, 3, 4].map((step) => (max * step) / 4);
}

/** A round number at or above value (1, 2, 2.5, 5 × 10^n), so axes read easily. */
export function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function color(index: number): string {
  return seriesColors[index % seriesColors.length] as string;
}

function fmt(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : '0';
}

export function formatNumber(value: number): string {
  if (value === 0) return '0';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toString();
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}

export function escapeXml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

import { ApiError } from './api/client.ts';

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'] as const;

/** 1536 → "1.5 KB" (powers of 1024, the way macOS Activity Monitor shows memory). */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes) || bytes < 0) return '—';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** 7_000_000_000 → "7B", 260_000 → "260K". */
export function formatCount(count: number | null | undefined): string {
  if (count == null || !Number.isFinite(count)) return '—';
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'B'],
    [1e6, 'M'],
    [1e3, 'K'],
  ];
  for (const [size, suffix] of steps) {
    if (count >= size) return `${Number((count / size).toFixed(count / size >= 10 ? 0 : 1))}${suffix}`;
  }
  return String(count);
}

export function formatPercent(done: number, total: number | null): string {
  if (!total) return '';
  return `${Math.min(100, Math.floor((done / total) * 100))}%`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
  return `${Math.floor(seconds / 86400)}d ${Math.floor((seconds % 86400) / 3600)}h`;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/**
 * An error in words a person understands: what happened and, where we know it, what to do. The
 * server's own message is kept when it already says something specific.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) {
    return error instanceof Error ? error.message : 'Something went wrong.';
  }
  switch (error.status) {
    case 0:
      return `${error.message} Is LMX running?`;
    case 401:
      return 'The admin key was refused. Check it and sign in again.';
    case 404:
      return error.code === 'unknown_route'
        ? 'This server does not offer that action yet (it may be an older version).'
        : error.message;
    case 429:
      return 'Too many requests right now. Wait a moment and try again.';
    case 507:
      return `Not enough free memory for this. ${error.message} Unload another model or choose a smaller one.`;
    default:
      if (error.status >= 500 && error.code === 'internal_error') {
        return 'The server hit an unexpected error. Its log has the details.';
      }
      return error.message;
  }
}

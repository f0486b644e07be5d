/**
 * The server's recent stdout/stderr lines, kept so the crash-loop alert can quote the last error the
 * server wrote before it died (the full output goes to the app's log file).
 */
export class ServerOutputTail {
  readonly #lines: string[] = [];
  readonly #partial = new Map<string, string>();

  constructor(private readonly maxLines = 200) {}

  /** Feeds a chunk of a stream; returns the complete lines it finished. */
  push(stream: 'stdout' | 'stderr', chunk: string): string[] {
    const text = (this.#partial.get(stream) ?? '') + chunk;
    const parts = text.split(/\r?\n/);
    this.#partial.set(stream, parts.pop() ?? '');
    const lines = parts.filter((line) => line.trim() !== '');
    for (const line of lines) this.#remember(line);
    return lines;
  }

  /** Whatever was left without a newline when the process ended. */
  flush(): string[] {
    const rest = [...this.#partial.values()].filter((line) => line.trim() !== '');
    this.#partial.clear();
    for (const line of rest) this.#remember(line);
    return rest;
  }

  get lines(): readonly string[] {
    return this.#lines;
  }

  /** The newest line that reports an error, as a human-readable sentence; undefined when none does. */
  lastErrorLine(): string | undefined {
    for (let index = this.#lines.length - 1; index >= 0; index--) {
      const described = describeErrorLine(this.#lines[index] as string);
      if (described) return described;
    }
    return undefined;
  }

  #remember(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > this.maxLines) this.#lines.splice(0, this.#lines.length - this.maxLines);
  }
}

const PINO_ERROR_LEVEL = 50;

/** A pino JSON line at error level or above, or a plain line that reads like an error. */
export function describeErrorLine(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    let record: unknown;
    try {
      record = JSON.parse(trimmed);
    } catch {
      record = undefined;
    }
    if (typeof record === 'object' && record !== null) {
      const { level, msg, err } = record as { level?: unknown; msg?: unknown; err?: { message?: unknown } };
      if (typeof level !== 'number' || level < PINO_ERROR_LEVEL) return undefined;
      const message = typeof msg === 'string' ? msg : '';
      const cause = typeof err?.message === 'string' ? err.message : '';
      if (cause && !message.includes(cause)) return message ? `${message}: ${cause}` : cause;
      return message || undefined;
    }
  }
  if (/^\s+at /.test(line)) return undefined; // a stack frame; the error line above it says more
  return /\b(error|fatal|invalid|cannot|failed|refus\w*)\b/i.test(trimmed) ? trimmed : undefined;
}

/** For the log and the alert when the server wrote nothing useful: how the process ended. */
export function describeExit(code: number, signal?: string): string {
  return signal
    ? `the server process was killed by ${signal}`
    : `the server process exited with code ${code}`;
}

export type AppLogLevel = 'error' | 'warn' | 'info' | 'debug';

/** The app-log level for one server line: pino's numeric level when it is JSON, stderr → warn otherwise. */
export function appLogLevel(line: string, stream: 'stdout' | 'stderr'): AppLogLevel {
  const match = /^\{"level":(\d+)/.exec(line);
  if (!match) return stream === 'stderr' ? 'warn' : 'info';
  const level = Number(match[1]);
  if (level >= 50) return 'error';
  if (level >= 40) return 'warn';
  if (level >= 30) return 'info';
  return 'debug';
}

import path from 'node:path';
import pino, { type Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** Rotating JSON log files go to <dataDir>/logs; undefined: no file. */
  dataDir?: string;
  /** Also write JSON lines to stderr (when run from a terminal). */
  stderr: boolean;
}

/** Secrets never reach a log line. */
export const redactedPaths = [
  'req.headers.authorization',
  'headers.authorization',
  'adminKey',
  'apiKey',
  '*.adminKey',
  '*.apiKey',
  'config.adminKey',
  'config.apiKey',
];

export function logDir(dataDir: string): string {
  return path.join(dataDir, 'logs');
}

/** Why the log file stopped being written (a full or read-only disk), once it has; null while it works. */
let logFileProblem: string | null = null;
const logFileFailureListeners = new Set<(problem: string) => void>();

export function currentLogFileProblem(): string | null {
  return logFileProblem;
}

/** Called once, when the log file fails; returns the unsubscribe. */
export function onLogFileFailure(listener: (problem: string) => void): () => void {
  logFileFailureListeners.add(listener);
  return () => logFileFailureListeners.delete(listener);
}

export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  const streams: pino.StreamEntry[] = [];
  if (options.stderr)
    streams.push({ stream: pino.destination({ dest: 2, sync: false }), level: options.level as pino.Level });
  if (options.dataDir)
    streams.push({ stream: logFile(options.dataDir, !options.stderr), level: options.level as pino.Level });
  if (streams.length === 0) return pino({ ...base, enabled: false });
  return pino(base, pino.multistream(streams));
}

/**
 * The rotating log file (pino-roll in a worker thread). A write it cannot make (ENOSPC, EROFS) is an
 * 'error' event that would end the process: instead the file is given up, the reason recorded and told
 * once on stderr, and later lines go to stderr (if they did not already).
 */
function logFile(dataDir: string, toStderrOnFailure: boolean): { write(line: string): void } {
  const file = path.join(logDir(dataDir), 'lmx');
  const transport = pino.transport({
    target: 'pino-roll',
    options: { file, extension: '.log', frequency: 'daily', size: '20m', limit: { count: 7 }, mkdir: true },
  });
  transport.on('error', (error: NodeJS.ErrnoException) => {
    if (logFileProblem) return;
    logFileProblem = `the log file in ${logDir(dataDir)} cannot be written (${error.code ?? error.message})`;
    process.stderr.write(`lmx: ${logFileProblem}; logging to stderr from now on\n`);
    for (const listener of logFileFailureListeners) listener(logFileProblem);
  });
  return {
    write(line) {
      if (!logFileProblem) transport.write(line);
      else if (toStderrOnFailure) process.stderr.write(line);
    },
  };
}

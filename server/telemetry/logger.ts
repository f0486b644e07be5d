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

export function createLogger(options: LoggerOptions): Logger {
  const targets: pino.TransportTargetOptions[] = [];
  if (options.stderr)
    targets.push({ target: 'pino/file', options: { destination: 2 }, level: options.level });
  if (options.dataDir) {
    targets.push({
      target: 'pino-roll',
      options: {
        file: path.join(logDir(options.dataDir), 'lmx'),
        extension: '.log',
        frequency: 'daily',
        size: '20m',
        limit: { count: 7 },
        mkdir: true,
      },
      level: options.level,
    });
  }
  const base = { level: options.level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  if (targets.length === 0) return pino({ ...base, enabled: false });
  return pino(base, pino.transport({ targets }));
}

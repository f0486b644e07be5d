import { parseArgs } from 'node:util';

/**
 * `npm start -- <flags>` (and `open LMX.app --args <flags>`): the flags of `lmx serve`, turned into
 * the server's config layer for `init` — so the app starts its server as the headless command would.
 * Keys follow server/config/schema.ts; the server validates the values (a bad one stops it with a
 * message naming the flag's key, as headless).
 */
export interface LaunchFlags {
  config: Record<string, unknown>;
  adminKey?: string;
  apiKey?: string;
  /** Long flags this parser does not know (Chromium's own switches): left alone, logged. */
  ignored: string[];
}

const serveFlags = {
  model: { type: 'string', multiple: true },
  host: { type: 'string' },
  port: { type: 'string' },
  lan: { type: 'boolean' },
  'data-dir': { type: 'string' },
  'models-dir': { type: 'string' },
  parallel: { type: 'string' },
  'context-size': { type: 'string' },
  gpu: { type: 'string' },
  threads: { type: 'string' },
  'log-level': { type: 'string' },
  'admin-key': { type: 'string' },
  'api-key': { type: 'string' },
} as const;

export function parseLaunchFlags(args: readonly string[]): LaunchFlags {
  const { values, tokens } = parseArgs({
    args: [...args],
    options: serveFlags,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const text = (name: keyof typeof serveFlags) => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const models = (values.model as unknown[] | undefined)?.filter((m): m is string => typeof m === 'string');
  const threads = numeric(text('threads'));
  const config = Object.fromEntries(
    Object.entries({
      startupModels: models?.length ? models : undefined,
      host: text('host'),
      port: numeric(text('port')),
      lan: values.lan === true ? true : undefined,
      dataDir: text('data-dir'),
      modelsDir: text('models-dir'),
      parallel: numeric(text('parallel')),
      contextSize: numeric(text('context-size')),
      gpu: text('gpu'),
      engine: threads === undefined ? undefined : { threads },
      logLevel: text('log-level'),
    }).filter(([, value]) => value !== undefined),
  );
  // Long options only: a short group such as macOS's -psn_0_123 is split into letters by the parser.
  const ignored = tokens.flatMap((token) =>
    token.kind === 'option' && !(token.name in serveFlags) && token.rawName.startsWith('--')
      ? [token.rawName]
      : [],
  );
  return { config, adminKey: text('admin-key'), apiKey: text('api-key'), ignored };
}

function numeric(value: string | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
}

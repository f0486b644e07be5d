import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { ConfigError, configFilePath, validateConfig } from './load.ts';
import type { Config } from './schema.ts';
import { invalidRequest, storageFailure } from '../errors.ts';

/** The schema is a few levels deep; a deeper body is refused before any recursion over it. */
const MAX_CONFIG_DEPTH = 8;

type Layer = Record<string, unknown>;

/** Keys the running server picks up at once; a change to any other key takes effect after a restart. */
export const LIVE_KEYS: ReadonlySet<string> = new Set([
  'jitLoad',
  'autoload',
  'memory.reserveBytes',
  'memory.budgetBytes',
  'models.ttlSeconds',
  'crashLoop.maxStarts',
  'crashLoop.windowMs',
  'helpers',
  'helperBreaker.failureThreshold',
  'helperBreaker.resetTimeoutMs',
]);

/** Keys that locate the config itself and cannot be set through it. */
const FIXED_KEYS = new Set(['dataDir']);

const SECRET_KEYS = ['adminKey', 'apiKey'] as const;
const REDACTED = '[set]';

/**
 * The configuration in force plus edits through the admin API: validated with the one schema, written
 * atomically to <data-dir>/config.json (only the edited keys join what the file already had), and applied
 * live where the key allows (LIVE_KEYS).
 */
export class LiveConfig {
  #current: Config;
  readonly #listeners: ((config: Config) => void)[] = [];

  constructor(initial: Config) {
    this.#current = initial;
  }

  get current(): Config {
    return this.#current;
  }

  /** Called with the new config after an update that changed something (live keys are applied there). */
  onChange(listener: (config: Config) => void): void {
    this.#listeners.push(listener);
  }

  /** The config as the admin API shows it: secrets replaced by "[set]" or null (a helper's key: "[set]"). */
  redacted(): Layer {
    const copy = structuredClone(this.#current) as Layer;
    for (const key of SECRET_KEYS) copy[key] = copy[key] ? REDACTED : null;
    for (const helper of copy.helpers as Layer[]) if (helper.apiKey) helper.apiKey = REDACTED;
    return copy;
  }

  async update(body: unknown): Promise<{ config: Layer; restartRequired: string[] }> {
    if (!isPlainObject(body))
      throw invalidRequest('The body must be a JSON object of config keys.', null, 'invalid_config');
    const partial = this.#keepRedactedHelperKeys(body);
    for (const key of Object.keys(partial)) {
      if (FIXED_KEYS.has(key)) {
        throw invalidRequest(
          `'${key}' cannot be changed through the config (it locates config.json).`,
          key,
          'invalid_config',
        );
      }
    }
    if (depthExceeds(partial, MAX_CONFIG_DEPTH)) {
      throw invalidRequest(
        `The config is nested deeper than ${MAX_CONFIG_DEPTH} levels.`,
        null,
        'invalid_config',
      );
    }
    let next: Config;
    try {
      next = validateConfig(mergeDeep(structuredClone(this.#current) as Layer, partial));
    } catch (error) {
      if (error instanceof ConfigError) throw invalidRequest(error.message, error.key, 'invalid_config');
      throw error;
    }
    const file = configFilePath(this.#current.dataDir);
    const stored = await readLayer(file);
    try {
      await writeFileAtomic(file, JSON.stringify(mergeDeep(stored, partial), null, 2) + '\n', {
        mode: 0o600,
      });
    } catch (error) {
      throw storageFailure(error);
    }
    const changed = changedKeys(this.#current as unknown as Layer, next as unknown as Layer);
    this.#current = next;
    if (changed.length > 0) for (const listener of this.#listeners) listener(next);
    return { config: this.redacted(), restartRequired: changed.filter((key) => !LIVE_KEYS.has(key)) };
  }

  /**
   * A helpers list sent back as GET showed it has "[set]" for keys: each stands for the key the helper of
   * that name has now (the real key is never shown, so a client cannot send it back).
   */
  #keepRedactedHelperKeys(partial: Layer): Layer {
    if (!Array.isArray(partial.helpers)) return partial;
    const helpers = partial.helpers.map((helper: unknown, index) => {
      if (!isPlainObject(helper) || helper.apiKey !== REDACTED) return helper;
      const apiKey = this.#current.helpers.find((current) => current.name === helper.name)?.apiKey;
      if (!apiKey) {
        throw invalidRequest(
          `helpers.${index}.apiKey is "${REDACTED}", but no helper named '${String(helper.name)}' has a key to keep.`,
          `helpers.${index}.apiKey`,
          'invalid_config',
        );
      }
      return { ...helper, apiKey };
    });
    return { ...partial, helpers };
  }
}

async function readLayer(file: string): Promise<Layer> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return isPlainObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function mergeDeep(target: Layer, layer: Layer): Layer {
  for (const [key, value] of Object.entries(layer)) {
    if (isPlainObject(value) && isPlainObject(target[key])) mergeDeep(target[key] as Layer, value);
    else target[key] = structuredClone(value);
  }
  return target;
}

/** Dotted paths of the leaves whose values differ. */
export function changedKeys(before: Layer, after: Layer, prefix = ''): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: string[] = [];
  for (const key of keys) {
    const path = prefix ? `${prefix}.${key}` : key;
    const a = before[key];
    const b = after[key];
    if (isPlainObject(a) && isPlainObject(b)) changed.push(...changedKeys(a, b, path));
    else if (JSON.stringify(a) !== JSON.stringify(b)) changed.push(path);
  }
  return changed;
}

/** Iterative, so no depth of nesting can overflow the stack. */
function depthExceeds(root: unknown, limit: number): boolean {
  const pending: [unknown, number][] = [[root, 1]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [value, depth] = next;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(value)) pending.push([child, depth + 1]);
  }
  return false;
}

function isPlainObject(value: unknown): value is Layer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

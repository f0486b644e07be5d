import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import Value from 'typebox/value';
import { ConfigSchema, type Config } from './schema.ts';

/** A configuration problem: names the key, where its value came from, and what is wrong. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly problem: string,
    readonly source?: string,
  ) {
    super(`Invalid configuration: ${key}${source ? ` (from ${source})` : ''}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Layer = Record<string, unknown>;
type Leaf = { path: string[]; schema: Record<string, unknown> };

export interface ConfigSources {
  /** Values given on the command line, keyed like the schema (nested objects for nested keys). */
  flags?: Layer;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  home?: string;
}

export function defaultDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'LMX');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'lmx');
}

export function configFilePath(dataDir: string): string {
  return path.join(dataDir, 'config.json');
}

/** defaults < <data-dir>/config.json < LMX_* environment variables < CLI flags; validated once, frozen. */
export function loadConfig({
  flags = {},
  env = process.env,
  platform = process.platform,
  home = homedir(),
}: ConfigSources = {}): Config {
  const envLayer = readEnvLayer(env);
  const dataDir = path.resolve(
    stringOr(flags.dataDir) ?? stringOr(envLayer.dataDir) ?? defaultDataDir(platform, env, home),
  );
  const fileLayer = readConfigFile(configFilePath(dataDir));
  const sources = new Map<string, string>();
  const merged: Layer = {};
  mergeLayer(merged, fileLayer, 'config.json', sources);
  mergeLayer(merged, envLayer, 'environment', sources);
  mergeLayer(merged, flags, 'command line', sources);
  merged.dataDir = dataDir;
  merged.modelsDir = path.resolve(dataDir, stringOr(merged.modelsDir) ?? 'models');
  // Model files named at start are paths as the user typed them: relative to where the command runs.
  if (Array.isArray(merged.startupModels)) {
    merged.startupModels = merged.startupModels.map((file) =>
      typeof file === 'string' ? path.resolve(file) : file,
    );
  }
  return validateConfig(merged, sources);
}

/** Validates a complete or partial candidate (defaults filled in), or throws the first problem found. */
export function validateConfig(candidate: Layer, sources = new Map<string, string>()): Config {
  const withDefaults = Value.Default(ConfigSchema, structuredClone(candidate));
  const [first] = Value.Errors(ConfigSchema, withDefaults);
  if (first) {
    const key = errorKey(first.instancePath, first.params);
    throw new ConfigError(key, first.message, sources.get(key));
  }
  const config = withDefaults as Config;
  // A helper's name labels its metrics and health component: two of one name could not be told apart.
  const names = config.helpers.map((helper) => helper.name);
  const repeated = names.findIndex((name, index) => names.indexOf(name) !== index);
  if (repeated !== -1) {
    throw new ConfigError(
      `helpers.${repeated}.name`,
      `the name '${names[repeated]}' is taken by another helper`,
      sources.get('helpers'),
    );
  }
  return deepFreeze(config);
}

function errorKey(instancePath: string, params: unknown): string {
  const extra = (params as { additionalProperties?: string[] }).additionalProperties?.[0];
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  return parts.join('.') || '(root)';
}

function readConfigFile(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError('config.json', `cannot be read: ${(error as Error).message}`, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError('config.json', `is not valid JSON: ${(error as Error).message}`, file);
  }
  if (!isPlainObject(parsed)) throw new ConfigError('config.json', 'must hold a JSON object', file);
  return parsed;
}

/** Every leaf of the schema has one variable: queue.maxQueued ← LMX_QUEUE_MAX_QUEUED. */
export function envVariableName(keyPath: readonly string[]): string {
  return 'LMX_' + keyPath.map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

function readEnvLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  for (const leaf of schemaLeaves(ConfigSchema as unknown as Record<string, unknown>, [])) {
    const name = envVariableName(leaf.path);
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(layer, leaf.path, convertEnvValue(leaf, raw, name));
  }
  return layer;
}

function convertEnvValue(leaf: Leaf, raw: string, name: string): unknown {
  const value = leaf.schema.type === 'array' ? raw.split(',').map((item) => item.trim()) : raw;
  const converted = Value.Convert(leaf.schema, value);
  if (!Value.Check(leaf.schema, converted)) {
    const [first] = Value.Errors(leaf.schema, converted);
    throw new ConfigError(leaf.path.join('.'), first?.message ?? 'invalid value', name);
  }
  return converted;
}

function schemaLeaves(schema: Record<string, unknown>, prefix: string[]): Leaf[] {
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  if (schema.type !== 'object' || !properties) return [{ path: prefix, schema }];
  return Object.entries(properties).flatMap(([key, child]) => schemaLeaves(child, [...prefix, key]));
}

function mergeLayer(
  target: Layer,
  layer: Layer,
  source: string,
  sources: Map<string, string>,
  prefix = '',
): void {
  for (const [key, value] of Object.entries(layer)) {
    if (value === undefined) continue;
    const keyPath = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value)) {
      if (!isPlainObject(target[key])) target[key] = {};
      mergeLayer(target[key] as Layer, value, source, sources, keyPath);
    } else {
      target[key] = value;
      sources.set(keyPath, source);
    }
  }
}

function setPath(target: Layer, keyPath: string[], value: unknown): void {
  let node = target;
  for (const part of keyPath.slice(0, -1)) {
    if (!isPlainObject(node[part])) node[part] = {};
    node = node[part] as Layer;
  }
  node[keyPath[keyPath.length - 1] as string] = value;
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isPlainObject(value: unknown): value is Layer {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

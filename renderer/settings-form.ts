import type { ConfigPatch, ServerConfig } from './api/types.ts';

/** The settings form's fields, as text the way inputs hold them. */
export interface SettingsForm {
  port: string;
  lan: boolean;
  apiKeyOn: boolean;
  /** A new API key; empty keeps the one the server has. */
  apiKey: string;
  inferencePerMinute: string;
  adminPerMinute: string;
  maxQueued: string;
  queueTimeoutSeconds: string;
  ttlSeconds: string;
  failureThreshold: string;
  resetTimeoutMs: string;
}

export const RESTART_WORDS: Record<string, string> = {
  port: 'Port',
  lan: 'Share on network',
  host: 'Host',
  apiKey: 'API key',
};

export function formFromConfig(config: ServerConfig): SettingsForm {
  return {
    port: String(config.port),
    lan: config.lan,
    apiKeyOn: config.apiKey != null,
    apiKey: '',
    inferencePerMinute: String(config.rateLimit.inferencePerMinute),
    adminPerMinute: String(config.rateLimit.adminPerMinute),
    maxQueued: String(config.queue.maxQueued),
    queueTimeoutSeconds: String(config.queue.timeoutMs / 1000),
    ttlSeconds: String(config.models.ttlSeconds),
    failureThreshold: String(config.helperBreaker.failureThreshold),
    resetTimeoutMs: String(config.helperBreaker.resetTimeoutMs),
  };
}

export type PatchResult = { patch: ConfigPatch } | { problem: string; field: keyof SettingsForm };

function wholeNumber(
  text: string,
  field: keyof SettingsForm,
  name: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
) {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(value) || value < min || value > max) {
    return {
      problem: `${name} must be a whole number from ${min} to ${max.toLocaleString('en-US')}.`,
      field,
    };
  }
  return value;
}

/**
 * Only what changed goes to PUT /admin/config; the server validates it again with the one schema.
 * Obvious mistakes are caught here first so the person gets the message next to the field.
 */
export function patchFromForm(config: ServerConfig, form: SettingsForm): PatchResult {
  const patch: ConfigPatch = {};
  const port = wholeNumber(form.port, 'port', 'Port', 0, 65535);
  if (typeof port !== 'number') return port;
  if (port !== config.port) patch.port = port;
  if (form.lan !== config.lan) patch.lan = form.lan;

  if (!form.apiKeyOn && config.apiKey != null) patch.apiKey = null;
  if (form.apiKeyOn) {
    const key = form.apiKey.trim();
    if (key) patch.apiKey = key;
    else if (config.apiKey == null)
      return { problem: 'Enter the API key clients must send.', field: 'apiKey' };
  }

  const inference = wholeNumber(form.inferencePerMinute, 'inferencePerMinute', 'Requests per minute', 1);
  if (typeof inference !== 'number') return inference;
  const admin = wholeNumber(form.adminPerMinute, 'adminPerMinute', 'Admin requests per minute', 1);
  if (typeof admin !== 'number') return admin;
  patch.rateLimit = changedPart(config.rateLimit, { inferencePerMinute: inference, adminPerMinute: admin });

  const maxQueued = wholeNumber(form.maxQueued, 'maxQueued', 'Queue length', 0);
  if (typeof maxQueued !== 'number') return maxQueued;
  const timeoutSeconds = wholeNumber(form.queueTimeoutSeconds, 'queueTimeoutSeconds', 'Queue wait', 1, 86400);
  if (typeof timeoutSeconds !== 'number') return timeoutSeconds;
  patch.queue = changedPart(config.queue, { maxQueued, timeoutMs: timeoutSeconds * 1000 });

  const ttl = wholeNumber(form.ttlSeconds, 'ttlSeconds', 'Idle unload time', 0);
  if (typeof ttl !== 'number') return ttl;
  if (ttl !== config.models.ttlSeconds) patch.models = { ttlSeconds: ttl };

  const threshold = wholeNumber(form.failureThreshold, 'failureThreshold', 'Failures before open', 1);
  if (typeof threshold !== 'number') return threshold;
  const reset = wholeNumber(form.resetTimeoutMs, 'resetTimeoutMs', 'Half-open after', 1, 86_400_000);
  if (typeof reset !== 'number') return reset;
  patch.helperBreaker = changedPart(config.helperBreaker, {
    failureThreshold: threshold,
    resetTimeoutMs: reset,
  });
  // A section without a change is undefined: JSON leaves it out of the request.
  return { patch };
}

/** The values of `next` that differ from `current`'s; undefined when none do. */
function changedPart<T extends object>(current: T, next: Partial<T>): Partial<T> | undefined {
  const changed = Object.entries(next).filter(([key, value]) => current[key as keyof T] !== value);
  return changed.length > 0 ? (Object.fromEntries(changed) as Partial<T>) : undefined;
}

import { isIP } from 'node:net';

/** One server under test. 'A' is --url; 'B' is --compare. */
export interface BenchTarget {
  label: string;
  /** The OpenAI base URL, without a trailing slash (…/v1). */
  baseUrl: string;
  apiKey?: string;
}

export class TargetError extends Error {
  override name = 'TargetError';
}

/** Parses and normalizes a base URL; refuses non-loopback hosts unless remote targets are allowed. */
export function parseTargetUrl(raw: string, allowRemote: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TargetError(`not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TargetError(`only http(s) targets are supported, got ${url.protocol}`);
  }
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    throw new TargetError(
      `${url.host} is not a loopback address; load-testing another machine needs --allow-remote`,
    );
  }
  return url.toString().replace(/\/+$/, '');
}

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host.startsWith('::ffff:127.');
  return false;
}

/** The server root for non-OpenAI routes (/healthz): the base URL without its trailing /v1. */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/v1$/, '');
}

export function authHeaders(target: BenchTarget): Record<string, string> {
  return target.apiKey ? { authorization: `Bearer ${target.apiKey}` } : {};
}

/** The model ids a target lists at GET /models (bounded by a timeout). */
export async function listModels(target: BenchTarget, timeoutMs = 10_000): Promise<string[]> {
  let response: Response;
  try {
    response = await fetch(`${target.baseUrl}/models`, {
      headers: authHeaders(target),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new TargetError(`cannot reach ${target.baseUrl}/models: ${(error as Error).message}`);
  }
  if (!response.ok) {
    throw new TargetError(`${target.baseUrl}/models answered ${response.status}: ${await response.text()}`);
  }
  const body = (await response.json()) as { data?: { id?: unknown }[] };
  return (body.data ?? []).flatMap((model) => (typeof model.id === 'string' ? [model.id] : []));
}

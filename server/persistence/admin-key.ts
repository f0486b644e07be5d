import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

export function adminKeyFile(dataDir: string): string {
  return path.join(dataDir, 'admin-key');
}

export function generateAdminKey(): string {
  return `lmx-${randomBytes(32).toString('base64url')}`;
}

/**
 * The admin key is never null: the configured one, else the one stored in <data-dir>/admin-key,
 * else a new one written there (mode 0600). Only where it is stored is ever logged.
 */
export async function loadOrCreateAdminKey(
  dataDir: string,
  configured: string | undefined,
): Promise<{ key: string; source: 'configured' | 'file' | 'generated'; file: string }> {
  const file = adminKeyFile(dataDir);
  if (configured) return { key: configured, source: 'configured', file };
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 16) return { key: stored, source: 'file', file };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = generateAdminKey();
  await storeAdminKey(dataDir, key);
  return { key, source: 'generated', file };
}

export async function storeAdminKey(dataDir: string, key: string): Promise<void> {
  await writeFileAtomic(adminKeyFile(dataDir), `${key}\n`, { mode: 0o600 });
}

/** The admin key in force; rotation replaces it in memory and on disk at once. */
export class AdminKeyHolder {
  constructor(
    private key: string,
    private readonly dataDir: string,
  ) {}

  get current(): string {
    return this.key;
  }

  async rotate(): Promise<string> {
    const next = generateAdminKey();
    await storeAdminKey(this.dataDir, next);
    this.key = next;
    return next;
  }
}

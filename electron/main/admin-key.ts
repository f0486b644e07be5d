import { readFile } from 'node:fs/promises';
import type { SecretStore } from './secrets.ts';

/**
 * Where the admin key in force lives:
 * - `keychain`: encrypted by safeStorage in the app's folder; sent in `init` at every start, so it
 *   wins over the server's key file — a rotation must therefore be stored here too.
 * - `server-file`: no keychain; the server keeps its own 0600 key file (as headless) and the app reads
 *   it, so the key survives launches without a plain-text copy in the app's folder.
 * - `configured`: given at launch (`--admin-key`); kept for this run only.
 */
export type AdminKeySource = 'keychain' | 'server-file' | 'configured';

export interface AdminKeysOptions {
  secrets: SecretStore;
  /** <server data dir>/admin-key */
  serverKeyFile: string;
  configured?: string;
  /** Does the server at `url` accept `key`? (An admin request answered 200.) */
  accepts?: (url: string, key: string) => Promise<boolean>;
}

/** The one owner of the admin key on the app's side: what `init` sends and what the window gets. */
export class AdminKeys {
  #key: string | undefined;

  private constructor(
    readonly source: AdminKeySource,
    key: string | undefined,
    private readonly options: AdminKeysOptions,
  ) {
    this.#key = key;
  }

  static async open(options: AdminKeysOptions): Promise<AdminKeys> {
    if (options.configured) return new AdminKeys('configured', options.configured, options);
    const stored = await options.secrets.adminKey();
    return stored
      ? new AdminKeys('keychain', stored, options)
      : new AdminKeys('server-file', undefined, options);
  }

  /** The key the server must start with; none when the server keeps its own file. */
  forInit(): string | undefined {
    return this.source === 'server-file' ? undefined : this.#key;
  }

  /** The key in force, for the window (null until the server has written its file). */
  async current(): Promise<string | null> {
    if (this.source !== 'server-file') return this.#key ?? null;
    try {
      return (await readFile(this.options.serverKeyFile, 'utf8')).trim() || null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * The window rotated the key on the server (POST /admin/keys/rotate): keep the new one — once the
   * server itself accepts it, so a page can never make the app adopt a key of its choosing.
   */
  async adopt(key: string, serverUrl: string | null): Promise<void> {
    const accepts = this.options.accepts ?? serverAccepts;
    if (!serverUrl || !(await accepts(serverUrl, key)))
      throw new Error('the server does not accept this admin key');
    if (this.source === 'keychain') await this.options.secrets.write({ adminKey: key });
    // server-file: the server has already rewritten its file; configured: this run only.
    this.#key = key;
  }
}

async function serverAccepts(url: string, key: string): Promise<boolean> {
  const response = await fetch(`${url}/admin/state`, {
    headers: { authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(10_000),
  });
  await response.body?.cancel();
  return response.status === 200;
}

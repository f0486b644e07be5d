import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SafeStorage } from 'electron';
import writeFileAtomic from 'write-file-atomic';

/**
 * The part of Electron's `safeStorage` (Keychain-backed on macOS) the store uses: the asynchronous
 * calls (the synchronous ones are deprecated in Electron 45).
 */
export type SafeStorageApi = Pick<
  SafeStorage,
  'isAsyncEncryptionAvailable' | 'encryptStringAsync' | 'decryptStringAsync'
>;

export interface Secrets {
  adminKey?: string;
  apiKey?: string;
}

interface SecretsFile {
  version: 1;
  /** base64 of safeStorage ciphertext; never plain text. */
  adminKey?: string;
  apiKey?: string;
}

/** Same format as the server's own generator (server/persistence/admin-key.ts). */
export function generateAdminKey(): string {
  return `lmx-${randomBytes(32).toString('base64url')}`;
}

/**
 * The admin key and the API key, encrypted with safeStorage in the app's data folder. When encryption
 * is not available (no keychain), nothing is stored here: the server then keeps its own 0600 key file,
 * as it does headless — never a plain-text copy in the app's folder.
 */
export class SecretStore {
  constructor(
    private readonly safeStorage: SafeStorageApi,
    private readonly file: string,
  ) {}

  available(): Promise<boolean> {
    return this.safeStorage.isAsyncEncryptionAvailable();
  }

  async read(): Promise<Secrets> {
    if (!(await this.available())) return {};
    const stored = await this.#readFile();
    return { adminKey: await this.#decrypt(stored.adminKey), apiKey: await this.#decrypt(stored.apiKey) };
  }

  /** The stored admin key, or a new one stored now; undefined when safeStorage is unavailable. */
  async adminKey(): Promise<string | undefined> {
    if (!(await this.available())) return undefined;
    const { adminKey } = await this.read();
    if (adminKey) return adminKey;
    const created = generateAdminKey();
    await this.write({ adminKey: created });
    return created;
  }

  /** Stores the given secrets (undefined leaves one as it is, null removes it). */
  async write(change: { adminKey?: string | null; apiKey?: string | null }): Promise<void> {
    if (!(await this.available())) throw new Error('safeStorage encryption is not available on this system');
    const stored = await this.#readFile();
    const next: SecretsFile = { ...stored, version: 1 };
    for (const key of ['adminKey', 'apiKey'] as const) {
      const value = change[key];
      if (value === null) delete next[key];
      else if (value !== undefined)
        next[key] = (await this.safeStorage.encryptStringAsync(value)).toString('base64');
    }
    await writeFileAtomic(this.file, JSON.stringify(next), { mode: 0o600 });
  }

  async #readFile(): Promise<SecretsFile> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1 };
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed === 'object' && parsed !== null && (parsed as SecretsFile).version === 1)
        return parsed as SecretsFile;
    } catch {
      // fall through: a damaged file is replaced on the next write
    }
    return { version: 1 };
  }

  async #decrypt(value: string | undefined): Promise<string | undefined> {
    if (!value) return undefined;
    try {
      return (await this.safeStorage.decryptStringAsync(Buffer.from(value, 'base64'))).result;
    } catch {
      // Encrypted by another keychain (a copied profile): unusable, a new key will be made.
      return undefined;
    }
  }
}

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { SafeStorageApi } from '../../electron/main/secrets.ts';

/** Real encryption with a per-"keychain" key, as safeStorage does with the Keychain's key. */
export class Keychain implements SafeStorageApi {
  readonly #key = randomBytes(32);
  constructor(readonly available = true) {}
  async isAsyncEncryptionAvailable(): Promise<boolean> {
    return this.available;
  }
  async encryptStringAsync(plainText: string): Promise<Buffer> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plainText, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }
  async decryptStringAsync(encrypted: Buffer): Promise<{ result: string; shouldReEncrypt: boolean }> {
    const decipher = createDecipheriv('aes-256-gcm', this.#key, encrypted.subarray(0, 12));
    decipher.setAuthTag(encrypted.subarray(12, 28));
    const result = Buffer.concat([decipher.update(encrypted.subarray(28)), decipher.final()]).toString(
      'utf8',
    );
    return { result, shouldReEncrypt: false };
  }
}

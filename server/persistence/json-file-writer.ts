import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/**
 * Writes one JSON file that the server keeps current: each write atomic (temp file, fsync, rename), so a
 * crash at any instant leaves the old or the new file, never a torn one; writes serialized in the order
 * they were asked for. A data dir that cannot be written (read-only, full) is reported once per distinct
 * problem through `onWriteError` and kept in `writeError`; the caller goes on with its state in memory.
 */
export class JsonFileWriter {
  #writing: Promise<void> = Promise.resolve();
  #writeError: string | null = null;

  constructor(
    readonly file: string,
    private readonly onWriteError: (problem: string) => void = () => {},
  ) {}

  /** Null while the file can be written; otherwise why the last write failed. */
  get writeError(): string | null {
    return this.#writeError;
  }

  /** Writes `value` as it is now; resolves once it (or a later value) is on disk, or the write failed. */
  write(value: unknown): Promise<void> {
    const text = JSON.stringify(value, null, 2) + '\n';
    const write = this.#writing.then(async () => {
      try {
        await mkdir(path.dirname(this.file), { recursive: true });
        await writeFileAtomic(this.file, text, { fsync: true });
        this.#writeError = null;
      } catch (error) {
        const problem = `cannot write ${this.file}: ${(error as Error).message}`;
        if (this.#writeError !== problem) this.onWriteError(problem);
        this.#writeError = problem;
      }
    });
    this.#writing = write;
    return write;
  }
}

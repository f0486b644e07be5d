import { open, readdir } from 'node:fs/promises';
import path from 'node:path';

/** ipull's chunk states as it records them: 0 not started, 1 in progress, 2 complete. */
export const CHUNK_COMPLETE = 2;

/**
 * The chunk states ipull has persisted for a staged download (undefined if none yet). ipull keeps an
 * unfinished download in `<name>.ipull`: the data at its final offsets, then, from the file's full size on,
 * a JSON record `{ part, chunks, chunkSize, parallelStreams }` that it rewrites after each finished chunk
 * (asynchronously, after the bytes have arrived). A restart reads that record and fetches only the chunks
 * it does not mark complete, so the record is what a resume depends on.
 */
export async function recordedChunks(
  modelsDir: string,
  fileName: string,
  fileSize: number,
): Promise<number[] | undefined> {
  const staging = path.join(modelsDir, '.downloads');
  for (const entry of await readdir(staging).catch(() => [])) {
    const handle = await open(path.join(staging, entry, `${fileName}.ipull`), 'r').catch(() => undefined);
    if (!handle) continue;
    try {
      const { size } = await handle.stat();
      if (size <= fileSize) return undefined;
      const record = Buffer.alloc(size - fileSize);
      await handle.read(record, 0, record.length, fileSize);
      return (JSON.parse(record.toString('utf8')) as { chunks: number[] }).chunks;
    } catch {
      return undefined; // caught mid-rewrite: read it again
    } finally {
      await handle.close();
    }
  }
  return undefined;
}

/** Every chunk but the first (the one a slow origin holds back) recorded complete. */
export const fastChunksRecorded = (chunks: number[] | undefined) =>
  !!chunks && chunks.length > 1 && chunks.slice(1).every((state) => state === CHUNK_COMPLETE);

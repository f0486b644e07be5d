import * as lancedb from '@lancedb/lancedb';
import { Field, Float64, Schema, Utf8 } from 'apache-arrow';
import type { Logger } from 'pino';
import { openLanceTable, sqlString } from '../rag/tables.ts';

/** One kept response: the response object and the input items it answered (the conversation so far). */
export interface StoredResponse {
  id: string;
  response: Record<string, unknown>;
  input: unknown[];
}

export interface ResponseStoreBounds {
  maxCount: number;
  maxBytes: number;
}

const TABLE = 'responses';

const schema = new Schema([
  new Field('id', new Utf8(), false),
  /** The order responses were kept in: the oldest goes first. */
  new Field('seq', new Float64(), false),
  /** The JSON text's bytes of response and input, what the bytes bound counts. */
  new Field('bytes', new Float64(), false),
  new Field('response', new Utf8(), false),
  new Field('input', new Utf8(), false),
]);

// A type, not an interface: LanceDB takes rows as Record<string, unknown>.
type Row = { id: string; seq: number; bytes: number; response: string; input: string };

/** Commits between compactions, which also drop the old versions (so deleted responses leave the disk). */
const COMPACT_EVERY = 32;

/**
 * The Responses API's store: one LanceDB table under `<data-dir>/responses/`. Every write is one LanceDB
 * commit (an atomic manifest switch: a write cut short by a kill is absent, never half there) and is on
 * disk when its call resolves. Bounded in count and bytes, the oldest responses out first. Every
 * operation runs in turn, so a compaction never removes files a read is using.
 */
export class ResponseStore {
  /** id → seq and bytes, in the order kept (a Map iterates in insertion order): the oldest first. */
  readonly #index = new Map<string, { seq: number; bytes: number }>();
  #bytes = 0;
  #nextSeq = 0;
  #commits = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    private readonly db: lancedb.Connection,
    private readonly table: lancedb.Table,
    private readonly bounds: ResponseStoreBounds,
    private readonly logger: Logger,
  ) {}

  static async open(directory: string, bounds: ResponseStoreBounds, logger: Logger): Promise<ResponseStore> {
    const { db, table } = await openLanceTable(directory, TABLE, schema);
    const store = new ResponseStore(db, table, bounds, logger);
    const rows = (await table.query().select(['id', 'seq', 'bytes']).toArray()) as Row[];
    rows.sort((a, b) => a.seq - b.seq);
    for (const row of rows) store.#remember(row.id, row.seq, row.bytes);
    // Bounds lowered since the last run, or an eviction cut short by a kill after its response was kept.
    await store.#evictPastBounds();
    return store;
  }

  /**
   * Keeps a response, then drops the oldest until the bounds hold. A response bigger than the whole
   * store is not kept (rather than emptying the store for it): false.
   */
  put(stored: StoredResponse): Promise<boolean> {
    const response = JSON.stringify(stored.response);
    const input = JSON.stringify(stored.input);
    const bytes = Buffer.byteLength(response) + Buffer.byteLength(input);
    if (bytes > this.bounds.maxBytes) return Promise.resolve(false);
    return this.#inTurn(async () => {
      const seq = this.#nextSeq;
      const row: Row = { id: stored.id, seq, bytes, response, input };
      await this.table.add([row]);
      this.#remember(stored.id, seq, bytes);
      await this.#evictPastBounds();
      await this.#compactNow();
      return true;
    });
  }

  get(id: string): Promise<StoredResponse | undefined> {
    return this.#inTurn(async () => {
      if (!this.#index.has(id)) return undefined;
      const [row] = (await this.table
        .query()
        .where(`id = ${sqlString(id)}`)
        .limit(1)
        .toArray()) as Row[];
      if (!row) return undefined;
      return {
        id: row.id,
        response: JSON.parse(row.response) as Record<string, unknown>,
        input: JSON.parse(row.input) as unknown[],
      };
    });
  }

  /** True if it was there. */
  delete(id: string): Promise<boolean> {
    return this.#inTurn(async () => {
      if (!this.#index.has(id)) return false;
      await this.table.delete(`id = ${sqlString(id)}`);
      this.#forget(id);
      await this.#compactNow();
      return true;
    });
  }

  /** Lets the operations under way finish (each write is on disk when it resolves), then closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    this.table.close();
    this.db.close();
  }

  #remember(id: string, seq: number, bytes: number): void {
    this.#index.set(id, { seq, bytes });
    this.#bytes += bytes;
    this.#nextSeq = Math.max(this.#nextSeq, seq + 1);
  }

  #forget(id: string): void {
    this.#bytes -= this.#index.get(id)?.bytes ?? 0;
    this.#index.delete(id);
  }

  /** The oldest responses past either bound, removed in one commit. */
  async #evictPastBounds(): Promise<void> {
    const victims: string[] = [];
    let count = this.#index.size;
    let bytes = this.#bytes;
    for (const [id, entry] of this.#index) {
      if (count <= this.bounds.maxCount && bytes <= this.bounds.maxBytes) break;
      victims.push(id);
      count--;
      bytes -= entry.bytes;
    }
    if (victims.length === 0) return;
    await this.table.delete(`id IN (${victims.map(sqlString).join(', ')})`);
    for (const id of victims) this.#forget(id);
  }

  /**
   * Every COMPACT_EVERY commits: fragments merged, old versions (and the deleted rows in them) removed.
   * After the write's own commit: a failed compaction is logged and tried again after the next write.
   */
  async #compactNow(): Promise<void> {
    if (++this.#commits < COMPACT_EVERY) return;
    try {
      await this.table.optimize({ cleanupOlderThan: new Date() });
      this.#commits = 0;
    } catch (error) {
      this.logger.warn({ err: error }, 'response store compaction failed');
    }
  }

  #inTurn<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the response store is closed'));
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => undefined);
    return result;
  }
}

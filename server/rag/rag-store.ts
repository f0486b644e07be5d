import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import * as lancedb from '@lancedb/lancedb';
import { InputTooLongError } from '../engine/embedder.ts';
import type { Logger } from 'pino';
import type { EmbeddingService } from '../helpers/embedding-service.ts';
import { chunkText } from './chunking.ts';
import {
  ChunkTooLongError,
  CollectionExistsError,
  CollectionNotFoundError,
  DocumentExistsError,
  DocumentNotFoundError,
} from './errors.ts';
import { StoreClosedError } from '../persistence/open-on-first-use.ts';
import {
  chunkRows,
  chunksSchema,
  chunkTableName,
  COLLECTIONS_TABLE,
  collectionsSchema,
  metadataFilter,
  openLanceTable,
  sqlString,
  type ChunkRow,
  type CollectionRow,
  type Metadata,
} from './tables.ts';

export interface CollectionSettings {
  name: string;
  /** The embedding model every chunk and query of the collection is embedded with. */
  model: string;
  chunkSize: number;
  chunkOverlap: number;
}

export interface CollectionInfo extends CollectionSettings {
  dimensions: number;
  documents: number;
  chunks: number;
  createdAt: string;
}

export interface NewDocument {
  id?: string;
  text: string;
  metadata?: Metadata;
}

export interface RagQuery {
  query: string;
  topK: number;
  filter?: Metadata;
  /** Reorders the `candidates` nearest chunks with a reranker model, then keeps topK. */
  rerank?: { model: string; candidates: number };
}

export interface QueryHit {
  documentId: string;
  chunkIndex: number;
  text: string;
  metadata: Metadata;
  /** Cosine similarity of the chunk's and the query's vectors. */
  score: number;
  rerankScore?: number;
}

export interface StoreStatus {
  collections: number;
  documents: number;
  chunks: number;
  sizeBytes: number;
  lastWriteAt: string | null;
  /** Each collection's name, embedding model and counts. */
  byCollection: { name: string; model: string; documents: number; chunks: number }[];
}

interface Collection {
  row: CollectionRow;
  table: lancedb.Table;
  /** Commits since the table was last compacted. */
  commits: number;
}

/**
 * Every ingest commit adds a fragment (and a delete a deletion file); a search scans them one by one, so
 * after this many the table is compacted (its own atomic commit): ~2.7× faster queries at 10k chunks.
 */
const COMPACT_EVERY = 32;

/** Inputs per embedding call during ingest: each call takes one admission slot of the model. */
const EMBED_BATCH = 64;

/**
 * The persistent RAG store: collections of chunked, embedded documents in LanceDB under `<data-dir>/rag/`.
 * Writes run one at a time. A document's chunks (all documents of one call) are added in one LanceDB
 * commit, so an interrupted ingest leaves all of them or none; a write is on disk when its call returns.
 */
export class RagStore {
  readonly #collections = new Map<string, Collection>();
  #writes: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(
    readonly directory: string,
    private readonly db: lancedb.Connection,
    private readonly index: lancedb.Table,
    private readonly embeddings: EmbeddingService,
    private readonly logger: Logger,
  ) {}

  static async open(directory: string, embeddings: EmbeddingService, logger: Logger): Promise<RagStore> {
    const { db, table: index } = await openLanceTable(directory, COLLECTIONS_TABLE, collectionsSchema);
    const store = new RagStore(directory, db, index, embeddings, logger);
    const rows = (await index.query().toArray()) as CollectionRow[];
    for (const row of rows) {
      store.#collections.set(row.name, {
        row,
        table: await db.openTable(chunkTableName(row.name)),
        commits: 0,
      });
    }
    // A chunk table without its collection row: a creation or deletion cut short.
    const known = new Set(rows.map((row) => chunkTableName(row.name)));
    for (const name of await db.tableNames()) {
      if (name !== COLLECTIONS_TABLE && !known.has(name)) await db.dropTable(name);
    }
    return store;
  }

  /** Checks the model by embedding a probe (its vectors' size fixes the collection's), then creates it. */
  createCollection(settings: CollectionSettings, signal: AbortSignal): Promise<CollectionInfo> {
    return this.#write(async () => {
      if (this.#collections.has(settings.name)) throw new CollectionExistsError(settings.name);
      const probe = await this.embeddings.embed(
        { model: settings.model, inputs: ['dimensions'], truncate: true },
        signal,
      );
      const dimensions = probe.vectors[0]?.length ?? 0;
      // A leftover table of this name was dropped by open(), so a plain create cannot collide.
      const table = await this.db.createEmptyTable(chunkTableName(settings.name), chunksSchema(dimensions));
      const row: CollectionRow = {
        name: settings.name,
        model: settings.model,
        chunk_size: settings.chunkSize,
        chunk_overlap: settings.chunkOverlap,
        dimensions,
        created_at: Date.now(),
      };
      // The row last: until it is written, the collection does not exist (open() drops the table).
      await this.index.add([{ ...row }]);
      this.#collections.set(row.name, { row, table, commits: 0 });
      return infoOf(row, 0, 0);
    });
  }

  async listCollections(): Promise<CollectionInfo[]> {
    return Promise.all(
      [...this.#collections.values()].map(async ({ row, table }) => {
        const documents = await this.#documentIds(table);
        return infoOf(row, documents.size, await table.countRows());
      }),
    );
  }

  deleteCollection(name: string): Promise<void> {
    return this.#write(async () => {
      const collection = this.#collection(name);
      // The row first: once it is gone the collection is gone, even if the drop below is cut short.
      await this.index.delete(`name = ${sqlString(name)}`);
      this.#collections.delete(name);
      collection.table.close();
      await this.db.dropTable(chunkTableName(name));
    });
  }

  /**
   * Chunks and embeds the documents, then adds every chunk of every one in one commit. Returns each
   * document's id (given or made) and chunk count, and the tokens embedded.
   */
  async addDocuments(
    name: string,
    documents: readonly NewDocument[],
    signal: AbortSignal,
  ): Promise<{ documents: { id: string; chunks: number }[]; promptTokens: number }> {
    const { row } = this.#collection(name);
    const prepared = documents.map((document) => ({
      id: document.id ?? randomUUID(),
      metadata: document.metadata ?? {},
      chunks: chunkText(document.text, { size: row.chunk_size, overlap: row.chunk_overlap }),
    }));
    const texts = prepared.flatMap((document) => document.chunks);
    const owners = prepared.flatMap((document, index) => document.chunks.map(() => index));
    const { vectors, promptTokens } = await this.#embedAll(row.model, texts, owners, signal);
    await this.#write(async () => {
      const collection = this.#collection(name);
      const existing = await this.#documentIds(collection.table);
      const taken = prepared.find((document) => existing.has(document.id));
      if (taken) throw new DocumentExistsError(name, taken.id);
      const at = Date.now();
      let offset = 0;
      const rows: ChunkRow[] = prepared.flatMap((document) => {
        const own = vectors.slice(offset, offset + document.chunks.length);
        offset += document.chunks.length;
        return chunkRows(document.id, document.chunks, own, document.metadata, at);
      });
      if (rows.length > 0) await collection.table.add(rows);
      await this.#compactWhenFragmented(collection);
    });
    return {
      documents: prepared.map((document) => ({ id: document.id, chunks: document.chunks.length })),
      promptTokens,
    };
  }

  async listDocuments(name: string): Promise<{ id: string; chunks: number; metadata: Metadata }[]> {
    const { table } = this.#collection(name);
    const rows = await table.query().select(['document_id', 'metadata']).toArray();
    const documents = new Map<string, { id: string; chunks: number; metadata: Metadata }>();
    for (const row of rows as { document_id: string; metadata: string }[]) {
      const document = documents.get(row.document_id);
      if (document) document.chunks++;
      else
        documents.set(row.document_id, {
          id: row.document_id,
          chunks: 1,
          metadata: JSON.parse(row.metadata) as Metadata,
        });
    }
    return [...documents.values()];
  }

  deleteDocument(name: string, documentId: string): Promise<{ chunks: number }> {
    return this.#write(async () => {
      const collection = this.#collection(name);
      const predicate = `document_id = ${sqlString(documentId)}`;
      const chunks = await collection.table.countRows(predicate);
      if (chunks === 0) throw new DocumentNotFoundError(name, documentId);
      await collection.table.delete(predicate);
      await this.#compactWhenFragmented(collection);
      return { chunks };
    });
  }

  /** The chunks nearest the query (cosine), filtered by metadata, optionally reranked. */
  async query(
    name: string,
    query: RagQuery,
    signal: AbortSignal,
  ): Promise<{ hits: QueryHit[]; promptTokens: number }> {
    const { row, table } = this.#collection(name);
    const embedded = await this.embeddings.embed(
      { model: row.model, inputs: [query.query], truncate: true },
      signal,
    );
    let search = table
      .vectorSearch(embedded.vectors[0] ?? [])
      .distanceType('cosine')
      .limit(query.rerank ? Math.max(query.topK, query.rerank.candidates) : query.topK);
    const filter = metadataFilter(query.filter);
    if (filter) search = search.where(filter);
    const found = (await search.toArray()) as (ChunkRow & { _distance: number })[];
    let hits: QueryHit[] = found.map((chunk) => ({
      documentId: chunk.document_id,
      chunkIndex: chunk.chunk_index,
      text: chunk.text,
      metadata: JSON.parse(chunk.metadata) as Metadata,
      score: 1 - chunk._distance,
    }));
    let promptTokens = embedded.promptTokens;
    if (query.rerank && hits.length > 0) {
      const ranked = await this.embeddings.rerank(
        {
          model: query.rerank.model,
          query: query.query,
          documents: hits.map((hit) => hit.text),
          truncate: true,
        },
        signal,
      );
      promptTokens += ranked.promptTokens;
      hits = hits
        .map((hit, index) => ({ ...hit, rerankScore: ranked.scores[index] ?? 0 }))
        .sort((a, b) => b.rerankScore - a.rerankScore);
    }
    return { hits: hits.slice(0, query.topK), promptTokens };
  }

  /** Collections, documents, chunks, bytes under the store's directory and the time of the last commit. */
  async status(): Promise<StoreStatus> {
    const collections = await this.listCollections();
    let lastWrite = 0;
    for (const table of [this.index, ...[...this.#collections.values()].map((entry) => entry.table)]) {
      const versions = await table.listVersions();
      const last = versions.at(-1);
      if (last) lastWrite = Math.max(lastWrite, new Date(last.timestamp).getTime());
    }
    return {
      collections: collections.length,
      documents: collections.reduce((sum, collection) => sum + collection.documents, 0),
      chunks: collections.reduce((sum, collection) => sum + collection.chunks, 0),
      sizeBytes: await directorySize(this.directory),
      lastWriteAt: lastWrite > 0 ? new Date(lastWrite).toISOString() : null,
      byCollection: collections.map(({ name, model, documents, chunks }) => ({
        name,
        model,
        documents,
        chunks,
      })),
    };
  }

  /** Lets the writes under way finish (each is on disk when it resolves), then closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writes.catch(() => undefined);
    for (const { table } of this.#collections.values()) table.close();
    this.index.close();
    this.db.close();
  }

  /** After the write's own commit: a failed compaction is logged and tried again after the next write. */
  async #compactWhenFragmented(collection: Collection): Promise<void> {
    if (++collection.commits < COMPACT_EVERY) return;
    try {
      await collection.table.optimize();
      collection.commits = 0;
    } catch (error) {
      this.logger.warn({ err: error, collection: collection.row.name }, 'RAG table compaction failed');
    }
  }

  #collection(name: string): Collection {
    const collection = this.#collections.get(name);
    if (!collection) throw new CollectionNotFoundError(name);
    return collection;
  }

  async #documentIds(table: lancedb.Table): Promise<Set<string>> {
    const rows = await table.query().select(['document_id']).toArray();
    return new Set((rows as { document_id: string }[]).map((row) => row.document_id));
  }

  /** `owners[i]`: the index of the document chunk i belongs to, named when a chunk is too long. */
  async #embedAll(model: string, texts: readonly string[], owners: readonly number[], signal: AbortSignal) {
    const vectors: number[][] = [];
    let promptTokens = 0;
    for (let start = 0; start < texts.length; start += EMBED_BATCH) {
      const batch = await this.embeddings
        .embed({ model, inputs: texts.slice(start, start + EMBED_BATCH), truncate: false }, signal)
        .catch((error: unknown) => {
          if (!(error instanceof InputTooLongError)) throw error;
          throw new ChunkTooLongError(owners[start + error.index] ?? 0, error.length, error.limit);
        });
      vectors.push(...batch.vectors);
      promptTokens += batch.promptTokens;
    }
    return { vectors, promptTokens };
  }

  /** Runs `task` after every write before it; refused once the store is closing. */
  #write<T>(task: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreClosedError('RAG'));
    const result = this.#writes.then(task);
    this.#writes = result.catch(() => undefined);
    return result;
  }
}

function infoOf(row: CollectionRow, documents: number, chunks: number): CollectionInfo {
  return {
    name: row.name,
    model: row.model,
    chunkSize: row.chunk_size,
    chunkOverlap: row.chunk_overlap,
    dimensions: row.dimensions,
    documents,
    chunks,
    createdAt: new Date(row.created_at).toISOString(),
  };
}

async function directorySize(directory: string): Promise<number> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true });
  let total = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const info = await stat(path.join(entry.parentPath, entry.name)).catch(() => undefined);
    total += info?.size ?? 0;
  }
  return total;
}

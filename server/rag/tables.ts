import { mkdir } from 'node:fs/promises';
import * as lancedb from '@lancedb/lancedb';
import { Field, FixedSizeList, Float32, Float64, Int32, List, Schema, Utf8 } from 'apache-arrow';

/** A document's metadata: flat, scalar values (what the query's equality filter can match). */
export type Metadata = Readonly<Record<string, string | number | boolean>>;

/** The table listing the collections (one row each). */
export const COLLECTIONS_TABLE = 'collections';

/** Each collection's chunks live in a table of their own. */
export function chunkTableName(collection: string): string {
  return `chunks_${collection}`;
}

export const collectionsSchema = new Schema([
  new Field('name', new Utf8(), false),
  new Field('model', new Utf8(), false),
  new Field('chunk_size', new Int32(), false),
  new Field('chunk_overlap', new Int32(), false),
  new Field('dimensions', new Int32(), false),
  new Field('created_at', new Float64(), false),
]);

export interface CollectionRow {
  name: string;
  model: string;
  chunk_size: number;
  chunk_overlap: number;
  dimensions: number;
  created_at: number;
}

export function chunksSchema(dimensions: number): Schema {
  return new Schema([
    new Field('document_id', new Utf8(), false),
    new Field('chunk_index', new Int32(), false),
    /** Chunks the document was cut into: a reader can tell a whole document from a part. */
    new Field('chunk_count', new Int32(), false),
    new Field('text', new Utf8(), false),
    new Field('metadata', new Utf8(), false),
    /** `key=<JSON value>` per metadata entry, which the filter matches with array_has_all. */
    new Field('labels', new List(new Field('item', new Utf8(), true)), false),
    new Field('vector', new FixedSizeList(dimensions, new Field('item', new Float32(), true)), false),
    new Field('ingested_at', new Float64(), false),
  ]);
}

// A type, not an interface: LanceDB takes rows as Record<string, unknown>.
export type ChunkRow = {
  document_id: string;
  chunk_index: number;
  chunk_count: number;
  text: string;
  metadata: string;
  labels: string[];
  vector: number[];
  ingested_at: number;
};

function labelsOf(metadata: Metadata): string[] {
  return Object.entries(metadata).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
}

export function chunkRows(
  documentId: string,
  texts: readonly string[],
  vectors: readonly number[][],
  metadata: Metadata,
  at: number,
): ChunkRow[] {
  const labels = labelsOf(metadata);
  return texts.map((text, index) => ({
    document_id: documentId,
    chunk_index: index,
    chunk_count: texts.length,
    text,
    metadata: JSON.stringify(metadata),
    labels,
    vector: vectors[index] ?? [],
    ingested_at: at,
  }));
}

/** A SQL string literal (LanceDB's filters are SQL). */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** The filter of rows whose metadata holds every entry of `filter` (equal values); undefined: no filter. */
export function metadataFilter(filter: Metadata | undefined): string | undefined {
  const labels = labelsOf(filter ?? {});
  if (labels.length === 0) return undefined;
  return `array_has_all(labels, [${labels.map(sqlString).join(', ')}])`;
}

/** A LanceDB database in `directory` (made if missing) and its table `name`, created empty if new. */
export async function openLanceTable(
  directory: string,
  name: string,
  schema: Schema,
): Promise<{ db: lancedb.Connection; table: lancedb.Table }> {
  await mkdir(directory, { recursive: true });
  const db = await lancedb.connect(directory);
  return { db, table: await db.createEmptyTable(name, schema, { existOk: true }) };
}

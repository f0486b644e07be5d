import { readFile, rename } from 'node:fs/promises';
import { modelKinds } from '../../shared/admin-api.ts';
import path from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { JsonFileWriter } from './json-file-writer.ts';

/** A model that was loaded, with the options it was loaded with, so a restart can bring it back. */
const PersistedModel = Type.Object({
  id: Type.String({ minLength: 1 }),
  path: Type.String({ minLength: 1 }),
  contextSize: Type.Optional(Type.Integer({ minimum: 1 })),
  parallel: Type.Optional(Type.Integer({ minimum: 1 })),
  gpuLayers: Type.Optional(Type.Integer({ minimum: 0 })),
  kind: Type.Optional(Type.Enum([...modelKinds])),
});
export type PersistedModel = Static<typeof PersistedModel>;

/** <data-dir>/runtime-state.json. Key names as the issue spells them, so humans can read the file. */
const RuntimeStateSchema = Type.Object({
  version: Type.Literal(1),
  pid: Type.Integer(),
  last_clean_shutdown: Type.Boolean(),
  startup_count: Type.Integer({ minimum: 0 }),
  last_startup_at: Type.String(),
  recent_starts: Type.Array(Type.String()),
  loaded_models: Type.Array(PersistedModel),
});
export type RuntimeState = Static<typeof RuntimeStateSchema>;

export type StateReadResult =
  | { kind: 'missing' }
  | { kind: 'ok'; state: RuntimeState }
  /** Not JSON or not the expected shape: moved aside (movedTo null if even that failed). */
  | { kind: 'corrupt'; problem: string; movedTo: string | null }
  | { kind: 'unreadable'; problem: string };

export function runtimeStateFile(dataDir: string): string {
  return path.join(dataDir, 'runtime-state.json');
}

/** Reads the previous run's state. Never throws: a bad file is moved aside and reported. */
export async function readRuntimeState(dataDir: string, now = new Date()): Promise<StateReadResult> {
  const file = runtimeStateFile(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'unreadable', problem: `${file} cannot be read: ${(error as Error).message}` };
  }
  let problem: string | undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    problem = `not valid JSON (${(error as Error).message})`;
  }
  if (!problem && !Value.Check(RuntimeStateSchema, parsed)) {
    const first = Value.Errors(RuntimeStateSchema, parsed)[0];
    problem = `unexpected content at '${first?.instancePath || '/'}': ${first?.message ?? 'invalid'}`;
  }
  if (!problem) return { kind: 'ok', state: parsed as RuntimeState };
  const aside = `${file}.corrupt-${now.toISOString().replaceAll(':', '-')}`;
  try {
    await rename(file, aside);
    return { kind: 'corrupt', problem, movedTo: aside };
  } catch {
    return { kind: 'corrupt', problem, movedTo: null };
  }
}

/**
 * The current run's state on disk. Every write is atomic (temp file, fsync, rename), so a crash at any
 * instant leaves the old or the new file, never a torn one (JsonFileWriter). A data dir that cannot be
 * written (read-only, full) is reported through `writeError` and the server goes on.
 */
export class RuntimeStateStore {
  #state: RuntimeState;
  readonly #file: JsonFileWriter;

  constructor(
    readonly dataDir: string,
    initial: RuntimeState,
    onWriteError: (problem: string) => void = () => {},
  ) {
    this.#state = structuredClone(initial);
    this.#file = new JsonFileWriter(runtimeStateFile(dataDir), onWriteError);
  }

  get state(): Readonly<RuntimeState> {
    return this.#state;
  }

  /** Null while the file can be written; otherwise why the last write failed. */
  get writeError(): string | null {
    return this.#file.writeError;
  }

  /** Applies a change and writes the file; resolves once this change (or a later one) is on disk. */
  update(change: (state: RuntimeState) => void): Promise<void> {
    change(this.#state);
    return this.#file.write(this.#state);
  }
}

import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { unreadableModelFile, type ModelFileInfo } from '../engine/gguf.ts';
import { ModelNotFoundError, ModelRefusedError } from './errors.ts';

/** One model of the library: a .gguf file, or the parts of a split model counted as one. */
export interface LibraryModel {
  /** The file name without `.gguf` (split files: without `-0000X-of-0000N`). */
  id: string;
  /** The file to load: the model itself, or the first part of a split model. */
  path: string;
  /** Every file of the model (all parts of a split model). */
  files: string[];
  sizeBytes: number;
  /** False for a file named with --model outside the models dir: loadable, never deleted through the API. */
  inLibrary: boolean;
  /** Why the model cannot be loaded, when the files alone already tell (missing split parts). */
  problem: string | null;
}

export interface LibraryScan {
  models: LibraryModel[];
  /** Ids of entries refused because they resolve outside the models dir (symlinks out), with why. */
  refused: Map<string, string>;
}

const SPLIT_PART = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/i;
const MAX_DEPTH = 8;
const MAX_ENTRIES = 10_000;

/** The model id clients use for a file: its name without `.gguf`, or without the split suffix. */
export function modelIdForFile(file: string): string {
  const name = path.basename(file);
  const split = SPLIT_PART.exec(name);
  return split ? (split[1] as string) : name.replace(/\.gguf$/i, '');
}

/**
 * The .gguf files under the models dir (sub-folders allowed, hidden entries skipped: downloads stage
 * there), plus files named with --model. Paths are confined: nothing that resolves outside the models
 * dir is listed or loaded, except those --model files. GGUF metadata is read once per file version.
 */
export class ModelLibrary {
  readonly #infoCache = new Map<string, { key: string; info: Promise<ModelFileInfo> }>();
  #lastScan: LibraryScan = { models: [], refused: new Map() };

  constructor(
    readonly modelsDir: string,
    /** Files named on the command line: allowed wherever they are. */
    private readonly externalFiles: readonly string[],
    /** Reads a file's GGUF metadata (the engine's reader); never throws. */
    private readonly readFileInfo: (file: string) => Promise<ModelFileInfo>,
  ) {}

  /** The result of the most recent scan (no I/O). */
  get lastScan(): LibraryScan {
    return this.#lastScan;
  }

  async scan(): Promise<LibraryScan> {
    const root = await realpath(this.modelsDir).catch(() => undefined);
    const files: string[] = [];
    const refused = new Map<string, string>();
    if (root) await this.#walk(root, root, 0, files, refused);
    const models = groupSplitFiles(files, true);
    await Promise.all(models.map((model) => this.#fillSize(model)));
    const known = new Set(models.map((model) => model.id));
    for (const file of this.externalFiles) {
      const absolute = path.resolve(file);
      const id = modelIdForFile(absolute);
      if (known.has(id)) continue;
      const size = await stat(absolute).then(
        (s) => s.size,
        () => 0,
      );
      models.push({
        id,
        path: absolute,
        files: [absolute],
        sizeBytes: size,
        inLibrary: false,
        problem: null,
      });
      known.add(id);
    }
    models.sort((a, b) => a.id.localeCompare(b.id));
    this.#lastScan = { models, refused };
    return this.#lastScan;
  }

  /**
   * The library model a request names: an id, or a path relative to the models dir. Anything that
   * resolves outside it (`..`, absolute paths, symlinks out) is a 400; an unknown name a 404.
   */
  async resolve(name: string): Promise<LibraryModel> {
    if (name.includes('\0'))
      throw new ModelRefusedError('The model name contains a NUL byte.', 'invalid_model');
    const scan = await this.scan();
    const external = scan.models.find(
      (model) => !model.inLibrary && (model.id === name || model.path === name),
    );
    if (external) return external;
    const looksLikePath =
      /[\\/]/.test(name) || /\.gguf$/i.test(name) || name === '..' || name === '.' || path.isAbsolute(name);
    if (!looksLikePath) {
      const refusal = scan.refused.get(name);
      if (refusal) throw outsideLibrary(name, refusal);
      const model = scan.models.find((candidate) => candidate.id === name);
      if (!model) throw new ModelNotFoundError(name);
      return model;
    }
    const root = await realpath(this.modelsDir).catch(() => path.resolve(this.modelsDir));
    const lexical = path.resolve(root, name);
    // An absolute path may spell the models dir without resolving its links (/tmp vs /private/tmp on macOS).
    const insideAsSpelled =
      isInside(root, lexical) || isInside(path.resolve(this.modelsDir), path.resolve(this.modelsDir, name));
    if (!insideAsSpelled) throw outsideLibrary(name, 'it is outside the models directory');
    const real = await realpath(lexical).catch(() => undefined);
    if (!real) throw new ModelNotFoundError(name);
    if (!isInside(root, real))
      throw outsideLibrary(name, 'it resolves (through a link) outside the models directory');
    const model = scan.models.find((candidate) => candidate.files.includes(real));
    if (!model) throw new ModelNotFoundError(name);
    return model;
  }

  /** GGUF metadata of a model, read once per (path, size, mtime) and cached. Never throws. */
  async info(model: LibraryModel): Promise<ModelFileInfo> {
    const stats = await stat(model.path).catch(() => undefined);
    const key = `${stats?.size ?? -1}:${stats?.mtimeMs ?? -1}:${model.files.length}`;
    const cached = this.#infoCache.get(model.path);
    if (cached?.key === key) return cached.info;
    const info = model.problem
      ? Promise.resolve(unreadableModelFile(model.problem))
      : this.readFileInfo(model.path);
    this.#infoCache.set(model.path, { key, info });
    return info;
  }

  forget(model: LibraryModel): void {
    this.#infoCache.delete(model.path);
  }

  async #walk(root: string, dir: string, depth: number, files: string[], refused: Map<string, string>) {
    if (depth > MAX_DEPTH || files.length >= MAX_ENTRIES) return;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.name.startsWith('.') || files.length >= MAX_ENTRIES) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        await this.#walk(root, full, depth + 1, files, refused);
      } else if (/\.gguf$/i.test(entry.name) && (entry.isFile() || entry.isSymbolicLink())) {
        if (!entry.isSymbolicLink()) {
          files.push(full);
          continue;
        }
        // A link is followed only while it stays inside the models dir; directory links are not followed.
        const target = await realpath(full).catch(() => undefined);
        const targetStats = target ? await stat(target).catch(() => undefined) : undefined;
        if (!target || !targetStats?.isFile()) continue;
        if (isInside(root, target)) files.push(full);
        else refused.set(modelIdForFile(full), 'it is a link that resolves outside the models directory');
      }
    }
  }

  async #fillSize(model: LibraryModel): Promise<void> {
    const sizes = await Promise.all(
      model.files.map((file) =>
        stat(file).then(
          (s) => s.size,
          () => 0,
        ),
      ),
    );
    model.sizeBytes = sizes.reduce((sum, size) => sum + size, 0);
  }
}

/** Split parts `name-0000X-of-0000N.gguf` in one folder become one model; the first part is its path. */
export function groupSplitFiles(files: readonly string[], inLibrary: boolean): LibraryModel[] {
  const models = new Map<string, LibraryModel & { expectedParts: number }>();
  for (const file of [...files].sort()) {
    const split = SPLIT_PART.exec(path.basename(file));
    const id = modelIdForFile(file);
    // A second file with the same id elsewhere in the tree would be ambiguous: the first (sorted) wins.
    const existing = models.get(id);
    if (existing) {
      if (split && path.dirname(existing.path) === path.dirname(file)) existing.files.push(file);
      continue;
    }
    models.set(id, {
      id,
      path: file,
      files: [file],
      sizeBytes: 0,
      inLibrary,
      problem: split && Number(split[2]) !== 1 ? 'the first part of this split model is missing' : null,
      expectedParts: split ? Number(split[3]) : 1,
    });
  }
  return [...models.values()].map(({ expectedParts, ...model }) => ({
    ...model,
    problem:
      model.problem ??
      (model.files.length < expectedParts
        ? `split model incomplete: ${model.files.length} of ${expectedParts} parts present`
        : null),
  }));
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

function outsideLibrary(name: string, why: string): ModelRefusedError {
  return new ModelRefusedError(`The model '${name}' is refused: ${why}.`, 'model_path_outside_library');
}

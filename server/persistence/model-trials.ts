import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { JsonFileWriter } from './json-file-writer.ts';

/**
 * Model files on trial. Native code can still die on a file that passed every check LMX can make in
 * JavaScript, at its first load or its first inference (llama.cpp aborts the process). So the first load and
 * the first inference of each file are recorded as under way, on disk, before they start, and as passed once
 * they survive. A start that finds a trial still under way knows the process died in it: that file is marked
 * as having crashed the server, so it is not restored and not loaded just in time (an unauthenticated request
 * could otherwise crash the server again and again); an explicit admin load tries it once more.
 *
 * A file is known by its path and size: a file replaced by one of another size is on trial again.
 */
export type TrialPhase = 'load' | 'inference';

const Phase = Type.Union([Type.Literal('load'), Type.Literal('inference')]);
const TrialsSchema = Type.Object({
  version: Type.Literal(1),
  passed: Type.Record(Type.String(), Type.Array(Phase)),
  underWay: Type.Record(Type.String(), Phase),
  crashed: Type.Record(
    Type.String(),
    // `probe`: how the probe process died (a signal, an exit code, a timeout) when the server itself did not.
    Type.Object({ phase: Phase, at: Type.String(), probe: Type.Optional(Type.String()) }),
  ),
});
type Trials = Static<typeof TrialsSchema>;

export interface ModelFile {
  path: string;
  sizeBytes: number;
}

/**
 * One trial under way: `passed` once the native work survived, `ended` when it stopped short of proving it,
 * `crashedProbe` when it killed the probe process that tried it first (engine/model-probe.ts).
 */
export interface Trial {
  passed(): Promise<void>;
  ended(): Promise<void>;
  crashedProbe(phase: TrialPhase, how: string): Promise<void>;
}

export function modelTrialsFile(dataDir: string): string {
  return path.join(dataDir, 'model-trials.json');
}

export class ModelTrials {
  #trials: Trials;
  readonly #file: JsonFileWriter;

  private constructor(
    readonly dataDir: string,
    trials: Trials,
    onWriteError: (problem: string) => void,
  ) {
    this.#trials = trials;
    this.#file = new JsonFileWriter(modelTrialsFile(dataDir), onWriteError);
  }

  /**
   * Reads the trials file; every trial a previous process left under way becomes a crash. Returns the files
   * found crashed now, for the log. An unreadable or corrupt file starts a fresh record.
   */
  static async open(
    dataDir: string,
    onWriteError: (problem: string) => void,
  ): Promise<{ trials: ModelTrials; newlyCrashed: { file: string; phase: TrialPhase }[] }> {
    const text = await readFile(modelTrialsFile(dataDir), 'utf8').catch(() => undefined);
    let parsed: unknown;
    try {
      parsed = text === undefined ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const trials: Trials = Value.Check(TrialsSchema, parsed)
      ? parsed
      : { version: 1, passed: {}, underWay: {}, crashed: {} };
    const newlyCrashed = Object.entries(trials.underWay).map(([file, phase]) => ({ file, phase }));
    const at = new Date().toISOString();
    for (const { file, phase } of newlyCrashed) trials.crashed[file] = { phase, at };
    trials.underWay = {};
    const store = new ModelTrials(dataDir, trials, onWriteError);
    if (newlyCrashed.length > 0) await store.#save();
    return { trials: store, newlyCrashed };
  }

  /** Why this file may not be loaded without an explicit admin load, or undefined. */
  crashReason(file: ModelFile): string | undefined {
    const crash = this.#trials.crashed[key(file)];
    if (!crash) return undefined;
    const what = crash.probe ? `a probe process (${crash.probe})` : 'the server';
    return `it crashed ${what} during its first ${crash.phase} (${crash.at}); load it with POST /admin/models/load to try again`;
  }

  /** An explicit admin load: the file is on trial again. */
  async forgive(file: ModelFile): Promise<void> {
    const name = key(file);
    if (!(name in this.#trials.crashed)) return;
    delete this.#trials.crashed[name];
    await this.#save();
  }

  /** Starts the trial of this phase, on disk before it resolves; undefined when the file already passed it. */
  async begin(file: ModelFile, phase: TrialPhase): Promise<Trial | undefined> {
    const name = key(file);
    if (this.#trials.passed[name]?.includes(phase)) return undefined;
    this.#trials.underWay[name] = phase;
    await this.#save();
    let settled = false;
    const settle = async (passed: boolean, crash?: Trials['crashed'][string]) => {
      if (settled) return;
      settled = true;
      if (this.#trials.underWay[name] === phase) delete this.#trials.underWay[name];
      if (passed) this.#trials.passed[name] = [...new Set([...(this.#trials.passed[name] ?? []), phase])];
      if (crash) this.#trials.crashed[name] = crash;
      await this.#save();
    };
    return {
      passed: () => settle(true),
      ended: () => settle(false),
      crashedProbe: (crashPhase, how) =>
        settle(false, { phase: crashPhase, at: new Date().toISOString(), probe: how }),
    };
  }

  /** A data dir that cannot be written leaves the guard in memory only. */
  #save(): Promise<void> {
    return this.#file.write(this.#trials);
  }
}

function key(file: ModelFile): string {
  return `${file.path}|${file.sizeBytes}`;
}

// node-llama-cpp's decode floor: its addon calls alone (initBatch/addToBatch/decodeBatch/sampleToken), greedy,
// N streams in one context, one token per stream per llama_decode. What any API on top of node-llama-cpp can at
// best reach in this process; used by bench/engine-floor.ts (the study tool) and bench/suite.ts (the ratios).
import type * as NodeLlamaCpp from 'node-llama-cpp';
import { addonChoiceEnv, engineBuildKey } from '../server/engine/engine-build.ts';

/** The parts of node-llama-cpp's internal addon context we drive directly (see dist/bindings/AddonTypes.d.ts). */
export interface AddonContextLike {
  initBatch(size: number): void;
  addToBatch(
    sequenceId: number,
    firstTokenSequenceIndex: number,
    tokens: Uint32Array,
    logitIndexes: Uint32Array,
  ): Uint32Array;
  decodeBatch(): Promise<void>;
  sampleToken(batchLogitIndex: number, sampler: AddonSamplerLike): Promise<number>;
  disposeSequence(sequenceId: number): void;
}
export interface AddonSamplerLike {
  applyConfig(config: {
    temperature?: number;
    topK?: number;
    topP?: number;
    minP?: number;
    seed?: number;
  }): void;
  dispose(): void;
}
export interface Internals {
  ctx: AddonContextLike;
  newSampler(): AddonSamplerLike;
}

export function internalsOf(
  llama: NodeLlamaCpp.Llama,
  model: NodeLlamaCpp.LlamaModel,
  context: NodeLlamaCpp.LlamaContext,
): Internals {
  // Internal fields, stripped from node-llama-cpp's .d.ts; stable across 3.x.
  const bindings = (
    llama as unknown as { _bindings: { AddonSampler: new (model: unknown) => AddonSamplerLike } }
  )._bindings;
  const addonModel = (model as unknown as { _model: unknown })._model;
  const ctx = (context as unknown as { _ctx: AddonContextLike })._ctx;
  return { ctx, newSampler: () => new bindings.AddonSampler(addonModel) };
}

/** node-llama-cpp with the binary LMX runs: its patched build when there is one (unless LMX_ENGINE_ADDON=prebuilt). */
export async function lmxsLlama(nlc: typeof NodeLlamaCpp, gpu: 'auto' | 'off'): Promise<NodeLlamaCpp.Llama> {
  const key = process.env[addonChoiceEnv] === 'prebuilt' ? undefined : await engineBuildKey();
  return nlc.getLlama({
    gpu: gpu === 'off' ? false : 'auto',
    build: 'never',
    cmakeOptions: key?.cmakeOptions ?? {},
    logLevel: nlc.LlamaLogLevel.error,
  });
}

/** Counts tokens per llama_decode by wrapping the addon context's initBatch/decodeBatch. */
export class DecodeCounter {
  private pendingSize = 0;
  sizes: number[] = [];
  recording = false;
  constructor(ctx: AddonContextLike) {
    const initBatch = ctx.initBatch.bind(ctx);
    const decodeBatch = ctx.decodeBatch.bind(ctx);
    // N-API methods are read-only on the prototype; own properties on the instance shadow them
    Object.defineProperty(ctx, 'initBatch', {
      configurable: true,
      value: (size: number) => {
        this.pendingSize = size;
        initBatch(size);
      },
    });
    Object.defineProperty(ctx, 'decodeBatch', {
      configurable: true,
      value: () => {
        if (this.recording) this.sizes.push(this.pendingSize);
        return decodeBatch();
      },
    });
  }
}

export interface RunResult {
  tokPerSec: number;
  ttftMs: number;
  tokens: number;
  decodes: number;
  tokensPerDecode: number;
  /** llama_decode calls in the decode phase per generation step of one stream */
  decodesPerStep: number;
  /** process CPU time (all threads) per decoded token in the decode phase: steadier than wall time on a shared machine */
  cpuMsPerToken: number;
}

export class StreamClock {
  readonly start = performance.now();
  private firstTokenAt: number[];
  private cpuAtDecodeStart: NodeJS.CpuUsage | undefined;
  private tokenTimes: number[][];
  constructor(
    streams: number,
    private readonly counter: DecodeCounter,
  ) {
    this.firstTokenAt = new Array<number>(streams).fill(Number.NaN);
    this.tokenTimes = Array.from({ length: streams }, () => []);
    counter.sizes = [];
    counter.recording = false;
  }
  token(stream: number, count = 1): void {
    const now = performance.now();
    const times = this.tokenTimes[stream];
    if (times == null) throw new Error(`no stream ${stream}`);
    for (let i = 0; i < count; i++) times.push(now);
    if (Number.isNaN(this.firstTokenAt[stream])) {
      this.firstTokenAt[stream] = now;
      // decode phase begins once every stream has its first token
      if (this.firstTokenAt.every((t) => !Number.isNaN(t))) {
        this.counter.recording = true;
        this.cpuAtDecodeStart = process.cpuUsage();
      }
    }
  }
  result(): RunResult {
    this.counter.recording = false;
    const cpu = process.cpuUsage(this.cpuAtDecodeStart);
    const decodeStart = Math.max(...this.firstTokenAt);
    const all = this.tokenTimes.flat();
    const after = all.filter((t) => t > decodeStart);
    const end = Math.max(...all);
    const sizes = this.counter.sizes;
    const decodeTokens = sizes.reduce((a, b) => a + b, 0);
    const steps = after.length / this.tokenTimes.length;
    return {
      tokPerSec: after.length / ((end - decodeStart) / 1000),
      ttftMs: Math.min(...this.firstTokenAt) - this.start,
      tokens: all.length,
      decodes: sizes.length,
      tokensPerDecode: sizes.length === 0 ? 0 : decodeTokens / sizes.length,
      decodesPerStep: steps === 0 ? 0 : sizes.length / steps,
      cpuMsPerToken: after.length === 0 ? 0 : (cpu.user + cpu.system) / 1000 / after.length,
    };
  }
}

export interface BareRun {
  streams: number;
  promptTokens: readonly NodeLlamaCpp.Token[];
  /** Tokens per stream (the first one comes from the prompt's decode). */
  tokens: number;
  /** Wall-clock bound of the run; tok/s stays a rate when it stops early. */
  maxSeconds: number;
}

/** The bare loop on a context with at least `streams` sequences (its sequence ids 0..streams-1 are cleared after). */
export async function runBareOnContext(
  { ctx, newSampler }: Internals,
  counter: DecodeCounter,
  run: BareRun,
): Promise<RunResult> {
  const { streams } = run;
  const samplers = Array.from({ length: streams }, () => {
    const s = newSampler();
    s.applyConfig({ temperature: 0 });
    return s;
  });
  try {
    const clock = new StreamClock(streams, counter);
    const prompt = Uint32Array.from(run.promptTokens);
    const last = new Uint32Array([prompt.length - 1]);
    ctx.initBatch(prompt.length * streams);
    const logitIndexes = samplers.map((_, s) => ctx.addToBatch(s, 0, prompt, last)[0] ?? 0);
    await ctx.decodeBatch();
    let next = await Promise.all(
      samplers.map((sampler, s) => ctx.sampleToken(logitIndexes[s] ?? 0, sampler)),
    );
    next.forEach((_, s) => clock.token(s));
    const one = new Uint32Array([0]);
    const deadline = clock.start + run.maxSeconds * 1000;
    for (let step = 1; step < run.tokens && performance.now() < deadline; step++) {
      ctx.initBatch(streams);
      const indexes = next.map(
        (token, s) => ctx.addToBatch(s, prompt.length + step - 1, Uint32Array.of(token), one)[0] ?? 0,
      );
      await ctx.decodeBatch();
      next = await Promise.all(samplers.map((sampler, s) => ctx.sampleToken(indexes[s] ?? 0, sampler)));
      next.forEach((_, s) => clock.token(s));
    }
    return clock.result();
  } finally {
    for (const s of samplers) s.dispose();
    for (let s = 0; s < streams; s++) ctx.disposeSequence(s);
  }
}

/**
 * A model and one context of `sequences` sequences, ready for bare runs of up to that many streams: the floor
 * the suite puts next to the server (same model file, same threads, same context shape).
 */
export class AddonFloor {
  private constructor(
    private readonly llama: NodeLlamaCpp.Llama,
    private readonly model: NodeLlamaCpp.LlamaModel,
    private readonly context: NodeLlamaCpp.LlamaContext,
    private readonly counter: DecodeCounter,
  ) {}

  static async open(
    nlc: typeof NodeLlamaCpp,
    options: {
      modelPath: string;
      threads: number;
      /** Threads for batches of more than one token (LMX's build only; the prebuilt ignores it). */
      batchThreads?: number;
      gpu: 'auto' | 'off';
      sequences: number;
      contextSize: number;
    },
  ): Promise<AddonFloor> {
    const llama = await lmxsLlama(nlc, options.gpu);
    const model = await llama.loadModel({ modelPath: options.modelPath });
    const context = await model.createContext({
      sequences: options.sequences,
      contextSize: Math.min(options.contextSize, model.trainContextSize),
      threads: options.threads,
      batchThreads: options.batchThreads,
    });
    return new AddonFloor(llama, model, context, new DecodeCounter(internalsOf(llama, model, context).ctx));
  }

  tokenize(text: string): NodeLlamaCpp.Token[] {
    return this.model.tokenize(text, false);
  }

  detokenize(tokens: readonly NodeLlamaCpp.Token[]): string {
    return this.model.detokenize(tokens);
  }

  run(run: BareRun): Promise<RunResult> {
    return runBareOnContext(internalsOf(this.llama, this.model, this.context), this.counter, run);
  }

  async dispose(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
  }
}

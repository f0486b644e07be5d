import { open, type FileHandle } from 'node:fs/promises';

// llama.cpp's GGUF loader and node-llama-cpp's JavaScript reader trust the file: a zero head count
// divides by zero, a huge count or dimension allocates or loops for minutes, a string length past 2^31
// trips a Node assertion. Every file is read here first, by a reader whose work is bounded by the file's
// size, and refused with a reason before native code or node-llama-cpp's reader sees it.

/** A GGUF file that must not reach llama.cpp; the message says which field is wrong. */
export class InvalidGgufError extends Error {
  override readonly name = 'InvalidGgufError';
}

const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
const MAX_STRING_BYTES = 16 * 1024 * 1024;
const MAX_ARRAY_LENGTH = 16 * 1024 * 1024;
const MAX_DIMENSIONS = 4;
const MAX_BLOCK_COUNT = 4096;
const CHUNK_BYTES = 1024 * 1024;

/** Metadata value types (gguf.md) and their byte widths; 8 = string, 9 = array. */
const SCALAR_BYTES: Readonly<Record<number, number>> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};
const STRING = 8;
const ARRAY = 9;

/**
 * Weight types llama.cpp can load as model tensors: [elements per block, bytes per block] (ggml.c's
 * type_traits). The integer and F64 types are absent on purpose: llama.cpp aborts on them.
 */
const TENSOR_TYPES: Readonly<Record<number, readonly [number, number]>> = {
  0: [1, 4],
  1: [1, 2],
  2: [32, 18],
  3: [32, 20],
  6: [32, 22],
  7: [32, 24],
  8: [32, 34],
  9: [32, 36],
  10: [256, 84],
  11: [256, 110],
  12: [256, 144],
  13: [256, 176],
  14: [256, 210],
  15: [256, 292],
  16: [256, 66],
  17: [256, 74],
  18: [256, 98],
  19: [256, 50],
  20: [32, 18],
  21: [256, 110],
  22: [256, 82],
  23: [256, 136],
  29: [256, 56],
  30: [1, 2],
  34: [256, 54],
  35: [256, 66],
  39: [32, 17],
};

type MetadataValue = number | bigint | boolean | string | readonly number[] | null;

/** Reads a file front to back through a 1 MiB window; every read is bounded by the file's size. */
class BoundedReader {
  #buffer = Buffer.alloc(0);
  #bufferStart = 0;
  position = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  get remaining(): number {
    return this.size - this.position;
  }

  async #ensure(bytes: number, what: string): Promise<Buffer> {
    if (bytes > this.remaining) throw new InvalidGgufError(`${what} runs past the end of the file`);
    const offset = this.position - this.#bufferStart;
    if (offset + bytes <= this.#buffer.length) return this.#buffer.subarray(offset, offset + bytes);
    const length = Math.min(Math.max(bytes, CHUNK_BYTES), this.remaining);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await this.file.read(buffer, 0, length, this.position);
    if (bytesRead < bytes) throw new InvalidGgufError(`${what} runs past the end of the file`);
    this.#buffer = buffer.subarray(0, bytesRead);
    this.#bufferStart = this.position;
    return this.#buffer.subarray(0, bytes);
  }

  async bytes(count: number, what: string): Promise<Buffer> {
    const view = await this.#ensure(count, what);
    this.position += count;
    return view;
  }

  async skip(count: number, what: string): Promise<void> {
    if (count > this.remaining) throw new InvalidGgufError(`${what} runs past the end of the file`);
    this.position += count;
  }

  async u32(what: string): Promise<number> {
    return (await this.bytes(4, what)).readUInt32LE(0);
  }

  /** A u64 that must fit the file: anything larger cannot describe bytes of it. */
  async count(what: string, bound: number): Promise<number> {
    const value = (await this.bytes(8, what)).readBigUInt64LE(0);
    if (value > BigInt(bound)) throw new InvalidGgufError(`${what} ${value} exceeds what the file can hold`);
    return Number(value);
  }

  async string(what: string, keep: boolean): Promise<string | null> {
    const length = await this.count(`${what} length`, Math.min(MAX_STRING_BYTES, this.remaining));
    if (!keep) {
      await this.skip(length, what);
      return null;
    }
    return (await this.bytes(length, what)).toString('utf8');
  }
}

async function readScalar(
  reader: BoundedReader,
  type: number,
  what: string,
): Promise<number | bigint | boolean> {
  const width = SCALAR_BYTES[type] as number;
  const bytes = await reader.bytes(width, what);
  switch (type) {
    case 0:
      return bytes.readUInt8(0);
    case 1:
      return bytes.readInt8(0);
    case 2:
      return bytes.readUInt16LE(0);
    case 3:
      return bytes.readInt16LE(0);
    case 4:
      return bytes.readUInt32LE(0);
    case 5:
      return bytes.readInt32LE(0);
    case 6:
      return bytes.readFloatLE(0);
    case 7:
      return bytes.readUInt8(0) !== 0;
    case 10:
      return bytes.readBigUInt64LE(0);
    case 11:
      return bytes.readBigInt64LE(0);
    default:
      return bytes.readDoubleLE(0);
  }
}

/** Reads one value; arrays keep their numbers only when small (hyper-parameters per layer). */
async function readValue(
  reader: BoundedReader,
  type: number,
  key: string,
  keep: boolean,
): Promise<MetadataValue> {
  if (type === STRING) return reader.string(`value of ${key}`, keep);
  if (type !== ARRAY) {
    if (SCALAR_BYTES[type] === undefined) throw new InvalidGgufError(`${key} has unknown value type ${type}`);
    return readScalar(reader, type, `value of ${key}`);
  }
  const elementType = await reader.u32(`array type of ${key}`);
  if (elementType === ARRAY) throw new InvalidGgufError(`${key} is an array of arrays`);
  const width = elementType === STRING ? 8 : SCALAR_BYTES[elementType];
  if (width === undefined) throw new InvalidGgufError(`${key} has unknown array element type ${elementType}`);
  const length = await reader.count(
    `length of ${key}`,
    Math.min(MAX_ARRAY_LENGTH, Math.floor(reader.remaining / width)),
  );
  if (elementType === STRING) {
    for (let i = 0; i < length; i++) await reader.string(`${key}[${i}]`, false);
    return null;
  }
  if (!keep || length > MAX_BLOCK_COUNT) {
    await reader.skip(length * width, `values of ${key}`);
    return null;
  }
  const values: number[] = [];
  for (let i = 0; i < length; i++) values.push(Number(await readScalar(reader, elementType, `${key}[${i}]`)));
  return values;
}

interface TensorInfo {
  name: string;
  dimensions: number[];
  type: number;
  offset: number;
}

export interface GgufSummary {
  architecture: string | null;
  tensorCount: number;
}

/**
 * Reads a GGUF file's header and tensor table with bounded work and checks what llama.cpp would trust
 * blindly. Throws InvalidGgufError naming the first problem.
 */
export async function validateGgufFile(file: string): Promise<GgufSummary> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    return await validate(new BoundedReader(handle, size));
  } finally {
    await handle.close();
  }
}

async function validate(reader: BoundedReader): Promise<GgufSummary> {
  if ((await reader.u32('magic')) !== GGUF_MAGIC) throw new InvalidGgufError('not a GGUF file (bad magic)');
  const version = await reader.u32('version');
  if (version !== 2 && version !== 3) throw new InvalidGgufError(`unsupported GGUF version ${version}`);
  // Each tensor descriptor takes at least 8+4+8+4+8 bytes, each key/value pair at least 8+4+1.
  const tensorCount = await reader.count('tensor count', Math.floor(reader.remaining / 32));
  const kvCount = await reader.count('metadata count', Math.floor(reader.remaining / 13));

  const metadata = new Map<string, MetadataValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = (await reader.string(`key ${i}`, true)) as string;
    const type = await reader.u32(`type of ${key}`);
    const keep =
      key === 'general.architecture' || key === 'general.alignment' || !key.startsWith('tokenizer.');
    metadata.set(key, await readValue(reader, type, key, keep));
  }

  const tensors: TensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = (await reader.string(`tensor ${i} name`, true)) as string;
    const dimensionCount = await reader.u32(`dimension count of ${name}`);
    if (dimensionCount < 1 || dimensionCount > MAX_DIMENSIONS) {
      throw new InvalidGgufError(`tensor ${name} has ${dimensionCount} dimensions`);
    }
    const dimensions: number[] = [];
    for (let d = 0; d < dimensionCount; d++)
      dimensions.push(await reader.count(`dimension of ${name}`, reader.size));
    const type = await reader.u32(`type of ${name}`);
    const offset = await reader.count(`offset of ${name}`, reader.size);
    tensors.push({ name, dimensions, type, offset });
  }

  const alignment = numberOf(metadata.get('general.alignment')) ?? 32;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new InvalidGgufError(`general.alignment ${alignment} is not a power of two`);
  }
  const dataStart = Math.ceil(reader.position / alignment) * alignment;
  checkTensors(tensors, alignment, reader.size - dataStart);
  const architecture = metadata.get('general.architecture');
  const arch = typeof architecture === 'string' ? architecture : null;
  if (arch !== null) checkHyperParameters(arch, metadata, tensors);
  return { architecture: arch, tensorCount };
}

function checkTensors(tensors: readonly TensorInfo[], alignment: number, dataBytes: number): void {
  for (const tensor of tensors) {
    const traits = TENSOR_TYPES[tensor.type];
    if (!traits) throw new InvalidGgufError(`tensor ${tensor.name} has unsupported type ${tensor.type}`);
    const [blockElements, blockBytes] = traits;
    let elements = 1n;
    for (const dimension of tensor.dimensions) {
      if (dimension < 1) throw new InvalidGgufError(`tensor ${tensor.name} has a zero dimension`);
      elements *= BigInt(dimension);
    }
    if ((tensor.dimensions[0] as number) % blockElements !== 0) {
      throw new InvalidGgufError(`tensor ${tensor.name}'s rows are not whole blocks of its type`);
    }
    const bytes = (elements / BigInt(blockElements)) * BigInt(blockBytes);
    if (tensor.offset % alignment !== 0) throw new InvalidGgufError(`tensor ${tensor.name} is not aligned`);
    if (BigInt(tensor.offset) + bytes > BigInt(dataBytes)) {
      throw new InvalidGgufError(`tensor ${tensor.name} runs past the end of the file`);
    }
  }
}

function numberOf(value: MetadataValue | undefined): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

/** A hyper-parameter may be one number or one per layer; every value must pass. */
function valuesOf(value: MetadataValue | undefined): number[] | undefined {
  if (Array.isArray(value)) return value as number[];
  const single = numberOf(value);
  return single === undefined ? undefined : [single];
}

function checkHyperParameters(
  arch: string,
  metadata: Map<string, MetadataValue>,
  tensors: readonly TensorInfo[],
): void {
  const key = (name: string) => `${arch}.${name}`;
  const positive = (name: string) => {
    const values = valuesOf(metadata.get(key(name)));
    if (values?.some((value) => !Number.isInteger(value) || value < 1)) {
      throw new InvalidGgufError(`${key(name)} must be a positive integer`);
    }
    return values;
  };
  const layerIndexes = tensors.map((t) => /^blk\.(\d+)\./.exec(t.name)).filter((m) => m !== null);
  const blockCount = numberOf(metadata.get(key('block_count')));
  if (blockCount !== undefined) {
    const splitTensors = numberOf(metadata.get('split.tensors.count'));
    const bound = Math.min(MAX_BLOCK_COUNT, splitTensors ?? tensors.length);
    if (!Number.isInteger(blockCount) || blockCount < 1 || blockCount > bound) {
      throw new InvalidGgufError(
        `${key('block_count')} ${blockCount} does not match the file's ${bound} tensors`,
      );
    }
    for (const match of layerIndexes) {
      if (Number(match[1]) >= blockCount)
        throw new InvalidGgufError(`tensor of layer ${match[1]} beyond ${key('block_count')}`);
    }
  }
  positive('embedding_length');
  positive('context_length');
  if (tensors.some((t) => /\.attn_(q|qkv)\.weight$/.test(t.name))) {
    const heads = positive('attention.head_count');
    const kvHeads = positive('attention.head_count_kv');
    const [h, kv] = [heads?.[0], kvHeads?.[0]];
    if (h !== undefined && kv !== undefined && h % kv !== 0) {
      throw new InvalidGgufError(`${key('attention.head_count')} is not a multiple of head_count_kv`);
    }
  }
  if (tensors.some((t) => /\.ffn_(up|gate)\.weight$/.test(t.name))) positive('feed_forward_length');
  for (const name of ['attention.layer_norm_rms_epsilon', 'attention.layer_norm_epsilon']) {
    const value = numberOf(metadata.get(key(name)));
    if (value !== undefined && !(Number.isFinite(value) && value > 0 && value < 1)) {
      throw new InvalidGgufError(`${key(name)} ${value} is not a small positive number`);
    }
  }
  for (const [name, value] of metadata) {
    if (name.startsWith(`${arch}.`) && typeof value === 'number' && !Number.isFinite(value)) {
      throw new InvalidGgufError(`${name} is not a finite number`);
    }
  }
}

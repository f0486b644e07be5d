import Type, { type Static } from 'typebox';

/**
 * The one configuration schema. Every setting of the server lives here with its default;
 * config.json, LMX_* environment variables and CLI flags are all validated against it.
 */

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const PositiveInt = Type.Integer({ minimum: 1 });
const NonNegativeInt = Type.Integer({ minimum: 0 });
const Millis = Type.Integer({ minimum: 1, maximum: 24 * 60 * 60 * 1000 });

export const GpuChoice = Type.Union([
  Type.Literal('auto'),
  Type.Literal('metal'),
  Type.Literal('cuda'),
  Type.Literal('vulkan'),
  Type.Literal('off'),
]);
export type GpuChoice = Static<typeof GpuChoice>;

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '127.0.0.1' }),
    port: Type.Integer({ ...Port, default: 1235 }),
    /** Bind 0.0.0.0 so other machines on the network can reach the server. */
    lan: Type.Boolean({ default: false }),
    dataDir: Type.String({ minLength: 1 }),
    modelsDir: Type.String({ minLength: 1 }),
    /** Model files loaded at start (the repeatable --model flag). */
    startupModels: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    /** Sequences per loaded model: concurrent requests to one model are batched together. */
    parallel: Type.Integer({ minimum: 1, maximum: 64, default: 4 }),
    /** Context size per sequence, capped at the model's trained context. */
    contextSize: Type.Integer({ minimum: 64, maximum: 1_048_576, default: 4096 }),
    gpu: { ...GpuChoice, default: 'auto' },
    engine: Type.Object(
      {
        /** Decode threads; 0 lets the engine choose per backend (see server/engine/threads.ts). */
        threads: Type.Integer({ minimum: 0, maximum: 256, default: 0 }),
        /** Tokens per decode batch; 0 lets node-llama-cpp choose. */
        batchSize: Type.Integer({ minimum: 0, maximum: 65536, default: 0 }),
      },
      { default: {}, additionalProperties: false },
    ),
    adminKey: Type.Optional(Type.String({ minLength: 16 })),
    apiKey: Type.Optional(Type.String({ minLength: 1 })),
    queue: Type.Object(
      {
        maxQueued: Type.Integer({ ...NonNegativeInt, default: 64 }),
        timeoutMs: Type.Integer({ ...Millis, default: 30_000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    inference: Type.Object(
      { timeoutMs: Type.Integer({ ...Millis, default: 300_000 }) },
      { default: {}, additionalProperties: false },
    ),
    rateLimit: Type.Object(
      {
        inferencePerMinute: Type.Integer({ ...PositiveInt, default: 60 }),
        adminPerMinute: Type.Integer({ ...PositiveInt, default: 10 }),
        // The Mac's owner is not throttled by their own server; false counts loopback like any address.
        exemptLoopback: Type.Boolean({ default: true }),
      },
      { default: {}, additionalProperties: false },
    ),
    shedding: Type.Object(
      {
        memoryThreshold: Type.Number({ exclusiveMinimum: 0, maximum: 1, default: 0.95 }),
        maxEventLoopDelayMs: Type.Integer({ ...NonNegativeInt, default: 1000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    limits: Type.Object(
      {
        maxMessages: Type.Integer({ ...PositiveInt, default: 256 }),
        maxTokens: Type.Integer({ ...PositiveInt, default: 32_768 }),
        /** Inputs of one /v1/embeddings request, documents of one /v1/rerank request. */
        maxInputs: Type.Integer({ ...PositiveInt, default: 512 }),
        /** Tokens of one embedding input or rerank document (client token arrays included). */
        maxInputTokens: Type.Integer({ ...PositiveInt, default: 32_768 }),
        bodyLimitBytes: Type.Integer({ minimum: 1024, default: 4 * 1024 * 1024 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** The Responses API's store (<data-dir>/responses/): past either bound, the oldest responses go first. */
    responses: Type.Object(
      {
        storeMaxCount: Type.Integer({ ...PositiveInt, default: 10_000 }),
        storeMaxBytes: Type.Integer({ minimum: 1024, default: 256 * 1024 ** 2 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** How long a connection may hold the server without progress (408, or the socket closed). */
    http: Type.Object(
      {
        /** Until a request's headers are complete. */
        headersTimeoutMs: Type.Integer({ ...Millis, default: 10_000 }),
        /** Until a request (headers and body) is complete, however steadily it arrives. */
        requestTimeoutMs: Type.Integer({ ...Millis, default: 60_000 }),
        /** Without a byte of a request body that has not all arrived. */
        bodyIdleTimeoutMs: Type.Integer({ ...Millis, default: 10_000 }),
        /** With an answer waiting for a client that stopped reading. */
        stalledWriteTimeoutMs: Type.Integer({ ...Millis, default: 10_000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Addresses or CIDRs of load balancers whose X-Forwarded-For names the client (rate limits, logs). */
    trustProxy: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
    cors: Type.Object(
      { origins: Type.Array(Type.String({ minLength: 1 }), { default: ['*'] }) },
      { default: {}, additionalProperties: false },
    ),
    cluster: Type.Object(
      {
        /** The other nodes of the pool (http://host:port), shown on the dashboard from their public routes. */
        peers: Type.Array(Type.String({ pattern: '^https?://[^/\\s]+/?$' }), { default: [] }),
      },
      { default: {}, additionalProperties: false },
    ),
    /** Other LMX (or OpenAI-compatible) servers that embedding and rerank requests may be sent to. */
    helpers: Type.Array(
      Type.Object(
        {
          name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }),
          url: Type.String({ pattern: '^https?://[^/\\s]+/?$' }),
          apiKey: Type.Optional(Type.String({ minLength: 1 })),
          roles: Type.Array(Type.Union([Type.Literal('embed'), Type.Literal('rerank')]), {
            minItems: 1,
            uniqueItems: true,
          }),
          /** The models sent to it; without a list, any model not loaded on this node. */
          models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
          timeoutMs: Type.Integer({ ...Millis, default: 10_000 }),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** Each helper's circuit breaker: open after this many consecutive failures, half-open after resetTimeoutMs. */
    helperBreaker: Type.Object(
      {
        failureThreshold: Type.Integer({ ...PositiveInt, default: 3 }),
        resetTimeoutMs: Type.Integer({ ...Millis, default: 30_000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    downloads: Type.Object(
      {
        /**
         * Loopback, link-local, private or unspecified addresses (or CIDRs) downloads may connect to; by
         * default none, so a download URI (or a redirect) cannot reach this machine or its network.
         */
        allowPrivateNetworks: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
        /** Free space a download leaves on the models disk: it refuses to start, or stops, below this. */
        reserveBytes: Type.Integer({ ...NonNegativeInt, default: 1024 ** 3 }),
      },
      { default: {}, additionalProperties: false },
    ),
    drainTimeoutMs: Type.Integer({ ...Millis, default: 30_000 }),
    /**
     * How long a stop reports not-ready while still accepting inference, before the drain refuses it:
     * long enough for a load balancer's health check to take the node out of its pool (0 = refuse at once).
     */
    drainNoticeMs: Type.Integer({ minimum: 0, maximum: 60_000, default: 0 }),
    jitLoad: Type.Boolean({ default: true }),
    autoload: Type.Boolean({ default: true }),
    memory: Type.Object(
      {
        reserveBytes: Type.Integer({ ...NonNegativeInt, default: 2 * 1024 ** 3 }),
        /** Cap on the estimated memory of all loaded models together; 0 = no cap (free memory decides). */
        budgetBytes: Type.Integer({ ...NonNegativeInt, default: 0 }),
      },
      { default: {}, additionalProperties: false },
    ),
    models: Type.Object(
      {
        ttlSeconds: Type.Integer({ ...NonNegativeInt, default: 0 }),
        /**
         * Before a file's first load on this data dir, load it and run a few tokens in a short-lived child
         * process: a file that kills it natively is refused instead of killing the server (engine/model-probe.ts).
         */
        probeFirstLoad: Type.Boolean({ default: true }),
        /** How long that probe may take before the file is refused as hanging. */
        probeTimeoutMs: Type.Integer({ ...Millis, default: 300_000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    crashLoop: Type.Object(
      {
        maxStarts: Type.Integer({ minimum: 2, default: 3 }),
        windowMs: Type.Integer({ ...Millis, default: 60_000 }),
      },
      { default: {}, additionalProperties: false },
    ),
    logLevel: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
      { default: 'info' },
    ),
  },
  { additionalProperties: false },
);

export type Config = Readonly<Static<typeof ConfigSchema>>;

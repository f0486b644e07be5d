// Hostile request parts generated from a route's JSON schema, so a route added later is fuzzed without
// new code: values that almost fit the schema, with hostile values mixed in at every level.

import fc from 'fast-check';

type JsonSchema = Record<string, unknown>;

/** Strings that would make the server reach beyond loopback (downloads) are replaced: tests stay local. */
const REACHES_OUT = /^\s*(hf:|huggingface:|https?:)/i;

const deep = (depth: number): unknown => {
  let value: unknown = 0;
  for (let level = 0; level < depth; level++) value = level % 2 ? [value] : { a: value };
  return value;
};

const edgeStrings = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udfff',
  '\u202e\u2066',
  '\ufeff',
  '🦙'.repeat(64),
  'a\u0301\u0302\u0303',
  '../../../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%00',
  '__proto__',
  'constructor',
  '{"__proto__":{"polluted":1}}',
  'x'.repeat(70_000),
];

const edgeNumbers = [
  -1,
  0,
  -0,
  0.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  -(2 ** 53) - 2,
  Number.MIN_VALUE,
  2 ** 31,
  2 ** 32,
  2 ** 64,
];

/** A value of any kind a JSON body can carry, biased towards the ones parsers and handlers trip on. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(...edgeStrings, ...edgeNumbers, null, true, false, [], {}),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(deep(64), deep(2_000)),
  fc.jsonValue({ maxDepth: 4 }),
  fc.constant({ ['__proto__']: { polluted: true } }),
  fc.constant(JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}')),
);

/** A value that fits the schema's shape, each part replaced by a hostile value now and then. */
export function fromSchema(
  schema: JsonSchema | undefined,
  hints: Readonly<Record<string, readonly string[]>>,
  key = '',
): fc.Arbitrary<unknown> {
  const fitting = fittingValue(schema ?? {}, hints, key);
  return fc.oneof({ weight: 4, arbitrary: fitting }, { weight: 1, arbitrary: hostileValue });
}

function fittingValue(
  schema: JsonSchema,
  hints: Readonly<Record<string, readonly string[]>>,
  key: string,
): fc.Arbitrary<unknown> {
  const variants = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  if (variants?.length) return fc.oneof(...variants.map((variant) => fittingValue(variant, hints, key)));
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  switch (schema.type) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((schema.required ?? []) as string[]);
      const shape = Object.fromEntries(
        Object.entries(properties).map(([name, property]) => [name, fromSchema(property, hints, name)]),
      );
      const extra = fc.dictionary(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'x', ''),
        hostileValue,
        {
          maxKeys: 2,
        },
      );
      return fc
        .tuple(
          fc.record(shape, { requiredKeys: Object.keys(properties).filter((name) => required.has(name)) }),
          fc.oneof({ weight: 5, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: extra }),
        )
        .map(([known, more]) => withOwnKeys(known as Record<string, unknown>, more));
    }
    case 'array':
      return fc.array(fromSchema(schema.items as JsonSchema | undefined, hints, key), {
        maxLength: Math.min(Number(schema.maxItems ?? 4), 4),
        minLength: Math.min(Number(schema.minItems ?? 0), 4),
      });
    case 'string': {
      const hinted = hints[key];
      const free = fc.string({
        minLength: Number(schema.minLength ?? 0),
        maxLength: Math.min(Number(schema.maxLength ?? 16), 16),
      });
      return hinted?.length ? fc.oneof(fc.constantFrom(...hinted), free) : free;
    }
    case 'integer':
      return fc.integer({
        min: Number(schema.minimum ?? -1000),
        max: Math.min(Number(schema.maximum ?? 1000), 1000),
      });
    case 'number':
      return fc.double({
        min: Number(schema.minimum ?? -1000),
        max: Number(schema.maximum ?? 1000),
        noNaN: true,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return hostileValue;
  }
}

/** Copies keys as own properties, '__proto__' included, the way JSON.parse would see them on the wire. */
function withOwnKeys(known: Record<string, unknown>, more: Record<string, unknown>): Record<string, unknown> {
  const target: Record<string, unknown> = { ...known };
  for (const name of Object.keys(more))
    Object.defineProperty(target, name, {
      value: more[name],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  return target;
}

/** The JSON text of a value, with strings that would leave loopback neutralised. */
export function toJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'string' && REACHES_OUT.test(inner) ? 'x' : inner,
    ) ?? 'null'
  );
}

/** How a serialized body is spoiled on the wire: tokens JSON has not, invalid UTF-8, cuts, nesting. */
export const wireDamage: fc.Arbitrary<(json: string) => Buffer> = fc.oneof(
  fc.constant((json: string) => Buffer.from(json)),
  fc.constant((json: string) => Buffer.from(json)),
  fc
    .constantFrom('NaN', 'Infinity', '-Infinity', '1e999999', '-0', '0x10', '01')
    .map((token) => (json: string) => Buffer.from(json.replace(/-?\d+(\.\d+)?/, token))),
  fc.constant((json: string) =>
    Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('}')]),
  ),
  fc.constant((json: string) => Buffer.from(json.replace(/"([^"]*)"/, '"\\ud800$1"'))),
  fc.nat().map((cut) => (json: string) => Buffer.from(json.slice(0, cut % Math.max(json.length, 1)))),
  fc.constant(() => Buffer.from('['.repeat(100_000))),
  fc.constant(() => Buffer.from('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000))),
  fc.constant((json: string) => Buffer.from(`${json}${json}`)),
);

/** Header values a client may send: odd content types, odd accept, odd request ids. */
export const hostileHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'content-type': fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=latin1',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/json; charset=utf-16',
      '',
    ),
    accept: fc.constantFrom('*/*', 'text/event-stream', 'application/xml', ''),
    'x-request-id': fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
    'accept-encoding': fc.constantFrom('gzip', 'br', 'identity;q=0', 'x'.repeat(500)),
  },
  { requiredKeys: ['content-type'] },
);

/** A query string of hostile names and values. */
export const hostileQuery: fc.Arbitrary<string> = fc
  .array(
    fc.tuple(
      fc.constantFrom('__proto__', 'constructor', 'model', 'id', 'a[b]', 'a'),
      fc.string({ maxLength: 40 }),
    ),
    {
      maxLength: 3,
    },
  )
  .map((pairs) => (pairs.length ? `?${new URLSearchParams(pairs).toString()}` : ''));

/** Path parameter values: traversal, encodings, nothing, very long. */
export const hostilePathValue: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '..',
    '../..',
    '../../etc/passwd',
    '..%2F..%2Fetc%2Fpasswd',
    '%2e%2e%2f',
    '%00',
    'a%2Fb',
    'x'.repeat(2_000),
    '%ff%fe',
    'CON',
    '.',
  ),
  fc.string({ minLength: 1, maxLength: 40 }).map((text) => encodeURIComponent(text)),
);

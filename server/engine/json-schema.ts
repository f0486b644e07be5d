/**
 * JSON schemas (structured outputs, tool parameters) checked against what node-llama-cpp's JSON-schema
 * grammar can enforce, so a schema is never silently loosened: a keyword the grammar would ignore is refused.
 */

/** A keyword of a JSON schema that the grammar cannot enforce; `path` is where it sits in the schema. */
export class UnsupportedSchemaError extends Error {
  override readonly name = 'UnsupportedSchemaError';
  constructor(
    readonly keyword: string,
    readonly path: string,
  ) {
    super(`JSON schema keyword '${keyword}' (at ${path}) cannot be enforced by the grammar`);
  }
}

/** What node-llama-cpp's GbnfJsonSchema enforces. */
const ENFORCED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'prefixItems',
  'minItems',
  'maxItems',
  'minLength',
  'maxLength',
  'minProperties',
  'maxProperties',
  'enum',
  'const',
  'oneOf',
  '$ref',
  '$defs',
  'format',
  'description',
]);
/** Annotations: they constrain nothing, so dropping them loosens nothing. */
const ANNOTATIONS = new Set([
  'title',
  '$schema',
  '$id',
  '$comment',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'strict',
]);
const FORMATS = new Set(['date-time', 'time', 'date']);

/**
 * The schema as node-llama-cpp's grammar takes it: annotations dropped, `anyOf` as `oneOf` (for a grammar
 * both are the same alternation), `definitions` as `$defs`. Throws UnsupportedSchemaError on anything else.
 */
export function toGrammarSchema(schema: unknown, path = '#'): unknown {
  if (typeof schema === 'boolean') {
    if (schema) return {};
    throw new UnsupportedSchemaError('false', path);
  }
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema))
    throw new UnsupportedSchemaError(typeof schema, path);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    const at = `${path}/${key}`;
    if (ANNOTATIONS.has(key)) continue;
    const name = key === 'anyOf' ? 'oneOf' : key === 'definitions' ? '$defs' : key;
    if (!ENFORCED.has(name)) throw new UnsupportedSchemaError(key, at);
    switch (name) {
      case 'properties':
      case '$defs':
        out[name] = Object.fromEntries(
          Object.entries(value as Record<string, unknown>).map(([k, v]) => [
            k,
            toGrammarSchema(v, `${at}/${k}`),
          ]),
        );
        break;
      case 'items':
      case 'additionalProperties':
        out[name] = typeof value === 'boolean' ? value : toGrammarSchema(value, at);
        break;
      case 'prefixItems':
      case 'oneOf':
        out[name] = (value as unknown[]).map((v, i) => toGrammarSchema(v, `${at}/${i}`));
        break;
      case '$ref':
        out[name] = typeof value === 'string' ? value.replace('#/definitions/', '#/$defs/') : value;
        break;
      case 'format':
        if (!FORMATS.has(String(value))) throw new UnsupportedSchemaError(`format: ${String(value)}`, at);
        out[name] = value;
        break;
      default:
        out[name] = value;
    }
  }
  return out;
}

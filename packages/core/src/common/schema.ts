import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';

/** Any Standard Schema (zod 4, valibot 1, arktype 2, ...): what handlers and contracts take. */
export type Schema<Input = unknown, Output = Input> = StandardSchemaV1<Input, Output>;

/** What a caller sends for `S`: its input type, or `unknown` without a schema. */
export type InputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown;
/** What a handler gets for `S` (after defaults and transforms): its output type, or `unknown`. */
export type OutputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown;

/** One thing a schema found wrong: where (a dotted path, empty for the value itself) and what. */
export interface SchemaIssue {
  readonly path: string;
  readonly message: string;
}

/** The value as the schema made it, or every issue it found. */
export type Checked<T> =
  { readonly value: T; readonly issues?: undefined } | { readonly issues: SchemaIssue[] };

/** True when `value` is a Standard Schema (version 1). */
export function isSchema(value: unknown): value is Schema {
  const props = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.[
    '~standard'
  ];
  return props?.version === 1 && typeof props.validate === 'function';
}

/**
 * Runs `schema` on `value`. Synchronous when the schema is (most are): the common case costs no
 * promise; an async schema gives a promise.
 */
export function check<T>(
  schema: Schema<unknown, T>,
  value: unknown,
): Checked<T> | Promise<Checked<T>> {
  const result = schema['~standard'].validate(value);
  return result instanceof Promise ? result.then(toChecked) : toChecked(result);
}

function toChecked<T>(result: StandardSchemaV1.Result<T>): Checked<T> {
  if (result.issues === undefined) return { value: result.value };
  return {
    issues: result.issues.map((issue) => ({ path: pathOf(issue), message: issue.message })),
  };
}

function pathOf(issue: StandardSchemaV1.Issue): string {
  return (issue.path ?? [])
    .map((segment) => (typeof segment === 'object' ? segment.key : segment))
    .map(String)
    .join('.');
}

/** The issues as one line: `items: Required; customer: Expected string`. */
export function describeIssues(issues: readonly SchemaIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/**
 * The JSON Schema (draft-07, the draft AsyncAPI and most validators read) of what goes on the
 * wire for `schema`: its input for what a caller sends, its output for what a handler replies.
 * Taken from the library's Standard JSON Schema support (zod 4.2+, arktype 2.1.28+, valibot
 * through `toStandardJsonSchema` of `@valibot/to-json-schema`); `undefined` when it has none or
 * cannot convert this schema.
 */
export function jsonSchemaOf(schema: Schema, side: 'input' | 'output'): object | undefined {
  const props = schema['~standard'] as Partial<StandardJSONSchemaV1.Props>;
  const converter = props.jsonSchema;
  if (typeof converter?.[side] !== 'function') return undefined;
  try {
    return converter[side]({ target: 'draft-07' });
  } catch {
    return undefined; // some schemas (transforms, custom checks) have no JSON Schema form
  }
}

/**
 * The metadata keys that carry a handler's schemas, as JSON Schema (draft-07) text: what a
 * caller sends (`request`, `payload`) and what an endpoint replies (`response`).
 */
export const SCHEMA_METADATA = {
  request: 'brigade.request_schema',
  response: 'brigade.response_schema',
  payload: 'brigade.payload_schema',
} as const;

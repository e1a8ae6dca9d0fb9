/** The most characters of a value from outside (a subject, a key, an id) that a message keeps. */
export const MAX_QUOTED_LENGTH = 128;

/** A value a client chose, cut for a log line or an error message. */
export function clip(value: string): string {
  return value.length <= MAX_QUOTED_LENGTH
    ? value
    : `${value.slice(0, MAX_QUOTED_LENGTH)}… (${value.length} characters)`;
}

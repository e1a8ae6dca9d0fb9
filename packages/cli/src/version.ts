import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The CLI's own version (and that of the Brigade packages it scaffolds against). */
export const CLI_VERSION = (
  JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;

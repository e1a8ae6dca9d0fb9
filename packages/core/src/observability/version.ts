import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** This package's version, as its tracer and metrics report it. */
export const BRIGADE_VERSION = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

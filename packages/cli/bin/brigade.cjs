#!/usr/bin/env node
// A committed entry point: npm links the command at install time, before anything is built,
// and links nothing to a file that does not exist yet.
try {
  require('../dist/main.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    process.stderr.write('brigade: the CLI is not built yet: run `npm run build` first\n');
    process.exit(1);
  }
  throw err;
}

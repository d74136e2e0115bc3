#!/usr/bin/env -S node --max-semi-space-size=2
// Runs the compiled CLI: dist/<fingerprint of the sources>/cli/main.js, which `npm ci` builds (the
// `prepare` script). No TypeScript compiler at run time. When the sources changed since the last build
// (or there is none yet), it compiles first and says so in one line; it never runs stale output.
// A command with a single-file bundle (common/build.mjs BUNDLES, CommonJS) runs that bundle instead when
// every file it was made of is unchanged (commandBundle); else the full build as above, which rebuilds it.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, commandBundle, currentBuild } from '../common/build.mjs';

const bundle = commandBundle(process.argv[2]);
if (bundle) {
  createRequire(import.meta.url)(bundle);
} else {
  let current = currentBuild();
  if (!current.fresh) {
    process.stderr.write('pd-harness: the sources changed since the last build (or there is none): compiling into dist/ first\n');
    current = await build();
  }
  await import(pathToFileURL(path.join(current.dir, 'cli', 'main.js')).href);
}

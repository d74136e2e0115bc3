#!/usr/bin/env -S node --max-semi-space-size=2
// Runs the compiled CLI: dist/<fingerprint of the sources>/cli/main.js, which `npm ci` builds (the
// `prepare` script). No TypeScript compiler at run time. When the sources changed since the last build
// (or there is none yet), it compiles first and says so in one line; it never runs stale output.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, currentBuild } from '../common/build.mjs';

let current = currentBuild();
if (!current.fresh) {
  process.stderr.write('pd-harness: the sources changed since the last build (or there is none): compiling into dist/ first\n');
  current = await build();
}
await import(pathToFileURL(path.join(current.dir, 'cli', 'main.js')).href);

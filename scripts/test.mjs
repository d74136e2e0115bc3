#!/usr/bin/env node
/**
 * `npm test`: the build, then Playwright, with the static checks (`npm run typecheck`, `npm run lint`)
 * running beside it at a lower CPU priority (nice 10). The checks are about a minute of CPU that used to
 * come before the first test; the tests spend much of their time waiting (timed loads, pods starting), and
 * that idle CPU now does the checks, while the tests keep priority over them.
 *
 * Playwright's output goes straight to the terminal; each check's output is printed, whole, when it ends.
 * Exit code: Playwright's when it failed, else 1 when a check failed, else 0. Extra arguments go to
 * Playwright (`npm test -- --project=unit`).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs a command; resolves to its exit code (and, when `capture`, its combined output). */
function run(cmd, args, { capture = false, nice = false } = {}) {
  const [file, argv] = nice && process.platform !== 'win32' ? ['nice', ['-n', '10', cmd, ...args]] : [cmd, args];
  return new Promise((ok) => {
    const child = spawn(file, argv, { stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    let output = '';
    if (capture) {
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
    }
    child.once('error', (err) => ok({ code: 127, output: `${output}${cmd}: ${err.message}\n` }));
    child.once('exit', (code, signal) => ok({ code: code ?? (signal ? 130 : 1), output }));
  });
}

// Ctrl-C reaches every child (same process group): wait for Playwright's teardown instead of dying first
process.on('SIGINT', () => undefined);

const build = await run(process.execPath, ['common/build.mjs']);
if (build.code !== 0) process.exit(build.code);

const started = Date.now();
const checks = ['typecheck', 'lint'].map(async (name) => {
  const r = await run(NPM, ['run', '-s', name], { capture: true, nice: true });
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  process.stdout.write(`\n── npm run ${name}: ${r.code === 0 ? 'passed' : `FAILED (exit ${r.code})`} after ${secs}s ──\n${r.output}`);
  return r.code;
});
const playwrightCli = createRequire(import.meta.url).resolve('@playwright/test/cli');
const playwright = await run(process.execPath, [playwrightCli, 'test', ...process.argv.slice(2)]);
const failedChecks = (await Promise.all(checks)).filter((c) => c !== 0).length;
if (failedChecks) process.stdout.write(`\n${failedChecks} static check(s) failed: see above\n`);
process.exit(playwright.code !== 0 ? playwright.code : failedChecks ? 1 : 0);

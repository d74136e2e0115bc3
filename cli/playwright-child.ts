/**
 * Runs `playwright test ARGS` as a child process with the terminal attached. Ctrl-C and SIGTERM reach it as
 * SIGINT: Playwright tears its fixtures down on SIGINT (undoing the run's changes); SIGTERM would skip that.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export function runPlaywright(args: string[], env: Record<string, string>, cwd?: string): Promise<number> {
  const cli = createRequire(import.meta.url).resolve('@playwright/test/cli');
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [cli, 'test', ...args], {
      ...(cwd ? { cwd } : {}),
      stdio: 'inherit',
      env: { ...process.env, ...env },
    });
    const forward = () => child.kill('SIGINT');
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.once('error', fail);
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      ok(code ?? (signal ? 130 : 1));
    });
  });
}

import { expect, test } from '@playwright/test';
import { execa } from 'execa';

test('pd-harness --help lists its commands and exits 0', async () => {
  const res = await execa('node', ['bin/pd-harness.js', '--help'], { reject: false });
  expect(res.exitCode).toBe(0);
  expect(res.stdout).toContain('Usage: pd-harness');
});

test('an unknown command exits 2 with one line and no stack trace', async () => {
  const res = await execa('node', ['bin/pd-harness.js', 'no-such-command'], { reject: false });
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toContain("unknown command 'no-such-command'");
  expect(res.stderr).not.toMatch(/\n\s+at /);
});

import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startSchedulerInstallOperator } from '../../twin/operator/index.ts';

/** A kubeconfig for an API server that is not there (a port just closed on loopback). */
async function kubeconfigForClosedPort(dir: string): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{name: gone, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: not-a-secret}}]
contexts: [{name: c, context: {cluster: gone, user: u}}]
current-context: c
`,
  );
  return file;
}

test('with the API server unreachable the operator keeps retrying with growing delays, and stops cleanly', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'operator-unavailable-'));
  const lines: string[] = [];
  const op = await startSchedulerInstallOperator({ kubeconfigPath: await kubeconfigForClosedPort(dir), log: (l) => lines.push(l) });
  try {
    await expect.poll(() => lines.filter((l) => l.startsWith('reconcile failed')).length, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    const delays = lines
      .map((l) => /^reconcile failed \(attempt (\d+), retry in (\d+) ms\)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [Number(m[1]), Number(m[2])]);
    expect(delays.slice(0, 3)).toEqual([
      [1, 400],
      [2, 800],
      [3, 1600],
    ]);
    expect(lines.join('\n')).not.toContain('not-a-secret');
  } finally {
    await op.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const after = lines.length;
  await new Promise((r) => setTimeout(r, 500));
  expect(lines.length).toBe(after);
});

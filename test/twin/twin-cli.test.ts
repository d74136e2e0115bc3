import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PREFIX_LOCK_PORT, lockRandomIpPrefix } from '../../twin/runtime/ip-prefix.ts';
import { isSameProcessAlive, listPids } from '../../twin/runtime/pidfiles.ts';
import { until } from '../helpers/until.ts';

/** `pd-harness twin up --detach / status / kubeconfig / down`, from separate processes, checked by pid. */
test.describe.configure({ timeout: 180_000 });

const cli = (args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, ['bin/pd-harness.js', ...args], { reject: false, env, timeout: 150_000 });

const POD = `apiVersion: v1
kind: Pod
metadata: { name: sleeper, namespace: default }
spec: { containers: [{ name: c, image: registry.k8s.io/pause:3.9 }] }
`;

async function upWithPod(stateDir: string): Promise<{ twinPid: number; podPid: number }> {
  const up = await cli(['twin', 'up', '--detach', '--state-dir', stateDir, '--gateway-port', '0', '--ip-prefix', 'random']);
  expect(up.exitCode, up.stderr).toBe(0);
  expect(up.stdout).toContain('twin up in the background');
  const kubeconfig = (await cli(['twin', 'kubeconfig', '--state-dir', stateDir])).stdout.trim();
  expect(kubeconfig).toBe(join(stateDir, 'kubeconfig'));
  const apply = await execa('kubectl', ['apply', '-f', '-'], { input: POD, env: { KUBECONFIG: kubeconfig }, reject: false });
  expect(apply.exitCode, apply.stderr).toBe(0);
  const status = await until(
    'the pod running with a pid in twin status',
    async () => {
      const s = JSON.parse((await cli(['twin', 'status', '--json', '--state-dir', stateDir])).stdout) as {
        running: boolean;
        pid: number;
        pods: { name: string; phase: string; pid?: number }[];
      };
      const pod = s.pods.find((p) => p.name === 'sleeper' && p.phase === 'Running' && p.pid);
      return pod ? { twinPid: s.pid, podPid: pod.pid! } : undefined;
    },
    60_000,
    500,
  );
  expect(isSameProcessAlive(status.twinPid, null)).toBe(true);
  expect(isSameProcessAlive(status.podPid, null)).toBe(true);
  return status;
}

test('twin down stops the twin and every process it started', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'pdh-twin-cli-'));
  try {
    const { twinPid, podPid } = await upWithPod(stateDir);
    const text = await cli(['twin', 'status', '--state-dir', stateDir]);
    expect(text.stdout).toMatch(/twin running \(pid \d+\)/);
    expect(text.stdout).toMatch(/default\s+sleeper\s+Running\s+true/);
    expect(readFileSync(join(stateDir, 'kubeconfig'), 'utf8')).toContain('token:');
    expect(text.stdout).not.toMatch(/token/i);

    const down = await cli(['twin', 'down', '--state-dir', stateDir]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout).toContain(`twin pid ${twinPid} stopped`);
    expect(isSameProcessAlive(twinPid, null)).toBe(false);
    expect(isSameProcessAlive(podPid, null)).toBe(false);
    expect(listPids(stateDir)).toEqual([]);
    expect((await cli(['twin', 'status', '--state-dir', stateDir])).stdout).toContain('twin is not running');
  } finally {
    // the twin down first (a no-op once the test took it down): its state holds the kubeconfig (a bearer token)
    await cli(['twin', 'down', '--state-dir', stateDir]);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a twin killed with SIGKILL leaves its pods behind, and the next twin down kills them', async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'pdh-twin-cli-'));
  try {
    const { twinPid, podPid } = await upWithPod(stateDir);
    process.kill(twinPid, 'SIGKILL');
    await until('the twin process gone', async () => !isSameProcessAlive(twinPid, null), 10_000);
    expect(isSameProcessAlive(podPid, null)).toBe(true);
    expect((await cli(['twin', 'status', '--state-dir', stateDir])).stdout).toContain('stale state');

    const down = await cli(['twin', 'down', '--state-dir', stateDir]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(down.stdout).toContain('was not running (stale state cleaned)');
    expect(down.stdout).toContain('killed 1 leftover process(es): default/sleeper/c');
    expect(isSameProcessAlive(podPid, null)).toBe(false);
    expect(listPids(stateDir)).toEqual([]);
  } finally {
    // the twin down first (a no-op once the test took it down): its state holds the kubeconfig (a bearer token)
    await cli(['twin', 'down', '--state-dir', stateDir]);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a twin on a prefix another twin holds is refused in one line and leaves nothing running', async () => {
  const held = await lockRandomIpPrefix();
  const stateDir = mkdtempSync(join(tmpdir(), 'pdh-twin-cli-'));
  try {
    const up = await cli(['twin', 'up', '--state-dir', stateDir, '--gateway-port', '0', '--topology', 'none', '--ip-prefix', held.prefix]);
    expect(up.exitCode).toBe(1);
    expect(up.stderr.trim().split('\n')).toEqual([
      `pd-harness: the twin did not start: ip prefix ${held.prefix} is in use by another twin on this machine (${held.prefix}.0.1:${PREFIX_LOCK_PORT} is bound): choose another with --ip-prefix 127.N, or --ip-prefix random`,
    ]);
    expect(listPids(stateDir)).toEqual([]);
  } finally {
    await held.release();
    rmSync(stateDir, { recursive: true, force: true });
  }
});

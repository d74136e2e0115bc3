import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isSameProcessAlive, listPids, reapStale } from '../../twin/runtime/pidfiles.ts';
import { until } from '../helpers/until.ts';

const repo = path.resolve(import.meta.dirname, '../..');

/** A twin process (API server + kubelet) that runs two pods, then waits to be killed. */
const TWIN_SCRIPT = (stateDir: string, ipPrefix: string) => `
const { CoreV1Api, KubeConfig } = await import(${JSON.stringify(import.meta.resolve('@kubernetes/client-node'))});
const { startApiServer } = await import(${JSON.stringify(pathToFileURL(path.join(repo, 'twin/apiserver/server.ts')).href)});
const { startKubelet } = await import(${JSON.stringify(pathToFileURL(path.join(repo, 'twin/kubelet/index.ts')).href)});
const stateDir = ${JSON.stringify(stateDir)};
const api = await startApiServer({ stateDir });
const kubelet = await startKubelet({ kubeconfigPath: api.kubeconfigPath, stateDir, ipPrefix: ${JSON.stringify(ipPrefix)} });
const kc = new KubeConfig();
kc.loadFromFile(api.kubeconfigPath);
const core = kc.makeApiClient(CoreV1Api);
for (const name of ['a', 'b']) {
  await core.createNamespacedPod({ namespace: 'default', body: { metadata: { name }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9' }] } } });
}
for (let i = 0; i < 300; i++) {
  const pids = kubelet.pids();
  if (pids['default/a']?.pause && pids['default/b']?.pause) { console.log('PIDS ' + JSON.stringify(pids)); break; }
  await new Promise((r) => setTimeout(r, 100));
}
setInterval(() => {}, 1000);
`;

test('pods of a SIGKILLed twin outlive it and are killed by the next reapStale', async () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-reap-'));
  const script = path.join(stateDir, 'twin.mts');
  fs.writeFileSync(script, TWIN_SCRIPT(stateDir, 'random'));
  const twin = spawn(process.execPath, ['--import', 'tsx', script], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let podPids: number[] = [];
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      const timer = setTimeout(() => reject(new Error(`twin did not start pods:\n${out}\n${err}`)), 60_000);
      twin.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /^PIDS (.*)$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      twin.stderr.on('data', (c: Buffer) => (err += c.toString()));
      twin.on('exit', (code) => reject(new Error(`twin exited early (${code}):\n${out}\n${err}`)));
    });
    const pids = JSON.parse(line) as Record<string, Record<string, number>>;
    podPids = Object.values(pids).flatMap((c) => Object.values(c));
    expect(podPids).toHaveLength(2);
    const records = listPids(stateDir);
    expect(records.map((r) => r.pid).sort()).toEqual([...podPids].sort());

    twin.kill('SIGKILL');
    await new Promise((r) => twin.once('exit', r));
    // Own process groups: the pods survive their twin, as containers survive a crashed kubelet.
    for (const r of records) expect(isSameProcessAlive(r.pid, r.startTime)).toBe(true);

    const result = reapStale(stateDir);
    expect(result.killed.map((r) => r.pid).sort()).toEqual([...podPids].sort());
    // SIGKILL is delivered when the kernel next runs the process: wait for it, bounded, rather than a fixed time
    await until('the reaped pods to exit', async () => records.every((r) => !isSameProcessAlive(r.pid, r.startTime)), 15_000, 50);
    expect(listPids(stateDir)).toHaveLength(0);
  } finally {
    twin.kill('SIGKILL');
    for (const pid of podPids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

/**
 * A pod process the twin's kubelet started must be findable by `twin down` and the next run's reaping even when the
 * kubelet was killed between spawn() and writing its pid record: seen in CI, where twin-orphans.test.ts SIGKILLs
 * runs whose kubelet is starting pods, and one P/D proxy pod ran on after the whole run, named by no record. The
 * pod's preload records the process itself (twin/runtime/pid-record.mjs).
 */
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PAUSE_PROGRAM } from '../../twin/runtime/images.ts';
import { pidRecordEnv, recordSelf, writePidRecord } from '../../twin/runtime/pid-record.mjs';
import { until } from '../helpers/until.ts';
import { findOrphans, isSameProcessAlive, listPids, processStartTime, reapStale, twinProcesses } from '../../twin/runtime/pidfiles.ts';

const PRELOAD_URL = pathToFileURL(path.resolve('twin/runtime/preload.mjs')).href;
const PID_RECORD_URL = pathToFileURL(path.resolve('twin/runtime/pid-record.mjs')).href;

/**
 * A stand-in kubelet: starts the pause program as the twin's supervisor does (detached, the preload, the record
 * environment naming itself as the owner), prints the pod's pid, and is SIGKILLed before it records it.
 */
const KILLED_KUBELET = `
import { spawn } from 'node:child_process';
import { pidRecordEnv, processStartTime } from ${JSON.stringify(PID_RECORD_URL)};
const [stateDir, preload, program] = process.argv.slice(1);
const env = { ...process.env, PD_TWIN_PID_RECORD: pidRecordEnv(stateDir, 'llm-d-vllm/proxy-x/proxy', process.pid, processStartTime(process.pid)) };
// preload '-': a process that never records itself (one killed before its preload ran, or not a Node program)
const argv = preload === '-' ? ['-e', 'setInterval(() => {}, 1e9)'] : ['--import', preload, program];
const pod = spawn(process.execPath, argv, { detached: true, stdio: 'ignore', env });
process.stdout.write(pod.pid + '\\n', () => process.kill(process.pid, 'SIGKILL'));
`;

/** Runs the stand-in kubelet to its SIGKILL; the pid of the pod it started and its own. */
async function killedKubelet(stateDir: string, preload: string): Promise<{ podPid: number; kubeletPid: number }> {
  const kubelet = spawn(process.execPath, ['--input-type=module', '-e', KILLED_KUBELET, stateDir, preload, PAUSE_PROGRAM], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  kubelet.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((r) => kubelet.once('exit', (_code, sig) => r(sig)));
  expect(signal, 'the stand-in kubelet died by SIGKILL before recording the pod').toBe('SIGKILL');
  const podPid = Number(out.trim());
  expect(Number.isInteger(podPid) && podPid > 0, `pod pid printed: ${JSON.stringify(out)}`).toBe(true);
  return { podPid, kubeletPid: kubelet.pid! };
}

function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}

test('a pod whose kubelet died before recording it records itself, and the reaping finds and kills it', async () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pid-self-record-'));
  let podPid: number | undefined;
  try {
    const started = await killedKubelet(stateDir, PRELOAD_URL);
    podPid = started.podPid;

    const record = await until('the pod to record itself', async () => listPids(stateDir).find((r) => r.pid === podPid), 15_000);
    expect(record).toMatchObject({
      pid: podPid,
      pgid: podPid,
      pod: 'llm-d-vllm/proxy-x/proxy',
      ownerPid: started.kubeletPid,
      startTime: processStartTime(podPid!),
    });
    expect(findOrphans([stateDir]).map((o) => o.pid)).toEqual([podPid]);

    const reaped = reapStale(stateDir);
    expect(reaped.killed.map((r) => r.pid)).toEqual([podPid]);
    await until('the pod to be gone', async () => (isSameProcessAlive(podPid!, record.startTime) ? undefined : true), 15_000);
    expect(listPids(stateDir)).toEqual([]);
  } finally {
    killGroup(podPid);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a process no record names is still found by its environment, listed as an orphan and reaped', async () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pid-self-record-'));
  let podPid: number | undefined;
  try {
    const started = await killedKubelet(stateDir, '-');
    podPid = started.podPid;
    expect(listPids(stateDir)).toEqual([]);
    const found = await until(
      'the process to be seen with its environment',
      async () => twinProcesses(stateDir).find((p) => p.pid === podPid),
      15_000,
    );
    expect(found).toMatchObject({ pid: podPid, pgid: podPid, pod: 'llm-d-vllm/proxy-x/proxy', ownerPid: started.kubeletPid });
    // another twin's state dir does not claim it
    expect(twinProcesses(`${stateDir}-other`)).toEqual([]);
    expect(findOrphans([stateDir]).map((o) => o.pid)).toEqual([podPid]);
    expect(reapStale(stateDir).killed.map((r) => r.pid)).toEqual([podPid]);
    await until('the process to be gone', async () => (isSameProcessAlive(podPid!, found.startTime) ? undefined : true), 15_000);
    expect(twinProcesses(stateDir)).toEqual([]);
  } finally {
    killGroup(podPid);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

test('a pod records itself only where the kubelet has not: the kubelet record stays as written', () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pid-self-record-'));
  try {
    const env = { PD_TWIN_PID_RECORD: pidRecordEnv(stateDir, 'ns/self/c', 4242, null) };
    expect(recordSelf(env)).toBe(true);
    expect(listPids(stateDir)).toEqual([
      expect.objectContaining({ pid: process.pid, pgid: process.pid, pod: 'ns/self/c', ownerPid: 4242 }),
    ]);

    fs.rmSync(stateDir, { recursive: true, force: true });
    const kubelets = {
      pid: process.pid,
      pgid: process.pid,
      pod: 'ns/kubelet/c',
      startTime: null,
      startedAt: 'then',
      ownerPid: 1,
      ownerStartTime: null,
    };
    writePidRecord(stateDir, kubelets);
    expect(recordSelf(env)).toBe(false);
    expect(listPids(stateDir)).toEqual([kubelets]);
    // no environment, no record: a process the twin did not start records nothing
    expect(recordSelf({})).toBe(false);
    expect(fs.readdirSync(path.join(stateDir, 'pids'))).toEqual([`${process.pid}.json`]);
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});

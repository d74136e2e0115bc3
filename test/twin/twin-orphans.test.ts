import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WORKERS_DIR } from '../../twin/launcher.ts';
import { listPids, recordAlive, twinProcesses, type PidRecord } from '../../twin/runtime/pidfiles.ts';

/**
 * Issue 13 point 7 (and 18 point 5): a conformance run SIGKILLed while its worker twin runs pods (a CI job
 * cancelled, an OOM kill) leaves those pod processes behind, in their own process groups. The next run and
 * `twin down` must reap every one of them; `twin status` lists them meanwhile. Asserted on pids.
 */
test.describe.configure({ mode: 'serial', timeout: 400_000 });

const workersDir = path.resolve(WORKERS_DIR);
const cli = (args: string[]) =>
  execa(process.execPath, ['bin/pd-harness.js', ...args], { reject: false, timeout: 300_000, env: { PD_HARNESS_SUITE: '' } });

function workerDirs(): string[] {
  try {
    return fs.readdirSync(workersDir).map((n) => path.join(workersDir, n));
  } catch {
    return [];
  }
}

/** Starts the seed's conformance suite, waits until its worker twin runs `pods` pod processes, SIGKILLs the whole run. */
async function killRunWithPods(pods: number): Promise<{ records: PidRecord[]; dir: string; runPid: number }> {
  const before = new Set(workerDirs());
  const run = spawn(process.execPath, ['bin/pd-harness.js', 'run', 'suites/proxy-performance.suite.yaml'], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, PD_HARNESS_SUITE: '' },
  });
  let records: PidRecord[] = [];
  let dir = '';
  try {
    await expect
      .poll(
        () => {
          const fresh = workerDirs().filter((d) => !before.has(d));
          dir = fresh[0] ?? '';
          records = dir ? listPids(dir) : [];
          return records.length >= pods || run.exitCode !== null;
        },
        { timeout: 240_000, intervals: [200] },
      )
      .toBe(true);
  } finally {
    process.kill(-run.pid!, 'SIGKILL'); // the whole run: pd-harness, Playwright, its worker (and its twin)
  }
  await new Promise((r) => (run.exitCode !== null || run.signalCode !== null ? r(undefined) : run.once('exit', r)));
  expect(records.length, 'the run got as far as running pods').toBeGreaterThanOrEqual(pods);
  records = listPids(dir); // every process recorded at the moment of the kill
  return { records, dir, runPid: run.pid! };
}

function killLeftovers(records: readonly PidRecord[]): void {
  for (const r of records) {
    try {
      process.kill(-r.pgid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

test('after a SIGKILLed conformance run, twin status lists its orphans and the next run reaps every one', async () => {
  const { records, dir, runPid } = await killRunWithPods(3);
  const outcomeDirs = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(`pdh-outcome-${runPid}-`));
  try {
    expect(outcomeDirs(), 'the killed run could not remove its outcome dir').toHaveLength(1);
    const status = await cli(['twin', 'status', '--json']);
    const orphans = (JSON.parse(status.stdout) as { orphans: { pid: number }[] }).orphans.map((o) => o.pid);
    // some pods exit by themselves once their API server is gone; those alive now were alive during status
    const survivors = records.filter(recordAlive);
    expect(survivors.length, 'the bug this guards against: pods outlive the killed run').toBeGreaterThan(0);
    for (const r of survivors) expect(orphans).toContain(r.pid);
    const text = await cli(['twin', 'status']);
    expect(text.stdout).toContain('orphaned processes');

    // the next run: any suite on the twin; its worker reaps before starting its own twin
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orphan-next-'));
    fs.writeFileSync(
      path.join(tmp, 'next.suite.yaml'),
      `apiVersion: pd-harness.dev/v1
kind: Suite
metadata: { name: orphan-next-run, tags: [conformance] }
spec:
  target: { namespaces: [llm-d-vllm] }
  load:
    requests: 1
    concurrency: 1
    request: { body: { model: m, messages: [{ role: user, content: hi }], max_tokens: 1 } }
  criteria:
    - responses: { status: 200, atLeast: 1 }
`,
    );
    const next = await cli(['run', path.join(tmp, 'next.suite.yaml')]);
    fs.rmSync(tmp, { recursive: true, force: true });
    // the next run reaps them, unless another run of this test process's project got there first (every run
    // reaps orphans whoever owned them): either way, once it has finished none is alive and the state dir is gone
    expect(`${next.stdout}\n${next.stderr}`).toMatch(/reaped|pd-harness: running suite/);
    expect(records.filter(recordAlive).map((r) => `${r.pod} (pid ${r.pid})`)).toEqual([]);
    // nor any process the records missed (one its kubelet started just before the kill): the kernel's view
    expect(twinProcesses(dir).map((r) => `${r.pod} (pid ${r.pid})`)).toEqual([]);
    expect(fs.existsSync(dir), "the dead worker twin's state dir is removed").toBe(false);
    expect(outcomeDirs(), "the next run removed the killed run's outcome dir (runner/outcome-dir.ts)").toEqual([]);

    const down = await cli(['twin', 'down']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(records.filter(recordAlive)).toEqual([]);
  } finally {
    killLeftovers(records);
  }
});

test('after a SIGKILLed conformance run, twin down reaps every process of its twin and returns when they are gone', async () => {
  const { records, dir } = await killRunWithPods(3);
  try {
    expect(records.filter(recordAlive).length, 'the bug this guards against: pods outlive the killed run').toBeGreaterThan(0);
    const down = await cli(['twin', 'down']);
    expect(down.exitCode, down.stderr).toBe(0);
    // twin down reaps them, unless a concurrent run's worker reaped them first (every run reaps orphans)
    expect(down.stdout).toMatch(/reaped|no twin was running/);
    // twin down returned: nothing of the killed run's twin is alive, its state dir is gone
    expect(records.filter(recordAlive).map((r) => `${r.pod} (pid ${r.pid})`)).toEqual([]);
    expect(twinProcesses(dir).map((r) => `${r.pod} (pid ${r.pid})`)).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    const status = JSON.parse((await cli(['twin', 'status', '--json'])).stdout) as { orphans: unknown[] };
    expect(status.orphans).toEqual([]);
  } finally {
    killLeftovers(records);
  }
});

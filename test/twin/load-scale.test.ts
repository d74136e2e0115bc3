import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { stringify } from '#yaml';
import { EPP_DEPLOYMENT, SCHEDULER_NS, SEED_MANIFESTS } from '../../runner/seed-topology.ts';
import { deployManifests } from '../../cluster/deploy.ts';
import { Cluster } from '../../cluster/driver.ts';
import { readManifests, type ManifestObject } from '../../cluster/manifests.ts';
import { waitCondition, waitRollout } from '../../cluster/observe.ts';
import { waitFor } from '../../cluster/waits.ts';
import { runLoad } from '../../load/builtin/engine.ts';
import type { LoadResult } from '../../load/result.ts';

// Must show (issue 7): 10,000 requests at concurrency 200 through the twin's gateway (seed topology, vLLM
// simulators with VLLM_SIM_LATENCY_SCALE=0): every request accounted for, no sockets left open in this
// (the harness) process, no twin processes left after `twin down`. The twin runs as its own process
// (`twin up --detach`), so this process's sockets are the load engine's and the cluster client's only.

const BIN = path.resolve('bin/pd-harness.js');
const REQUESTS = 10_000;
const CONCURRENCY = 200;

function socketCount(): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}

/** The seed manifests with every vLLM container told to answer as fast as it can (a bench-only copy). */
function fastSeed(file: string): string[] {
  const dirs = SEED_MANIFESTS.filter((p) => fs.statSync(p).isDirectory());
  const objects: ManifestObject[] = readManifests(SEED_MANIFESTS.filter((p) => !dirs.includes(p)));
  for (const obj of objects) {
    const spec =
      obj.kind === 'Pod' ? (obj['spec'] as { containers?: { image?: string; env?: { name: string; value: string }[] }[] }) : undefined;
    for (const c of spec?.containers ?? []) {
      if (c.image?.startsWith('vllm/vllm-openai')) c.env = [...(c.env ?? []), { name: 'VLLM_SIM_LATENCY_SCALE', value: '0' }];
    }
  }
  fs.writeFileSync(file, objects.map((o) => stringify(o)).join('---\n'));
  return [...dirs, file];
}

function alive(pid: number, startTime: number | null): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && (startTime === null || Number(fields[19]) === startTime);
  } catch {
    return false;
  }
}

function pidRecords(stateDir: string): { pid: number; startTime: number | null; pod: string }[] {
  const dir = path.join(stateDir, 'pids');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((f) => {
    try {
      return [JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { pid: number; startTime: number | null; pod: string }];
    } catch {
      return [];
    }
  });
}

test.describe('10,000 requests at concurrency 200 through the twin gateway', () => {
  test.describe.configure({ timeout: 420_000 });

  test('every request accounted for; no sockets or processes left', async ({}, testInfo) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'load-scale-'));
    const stateDir = path.join(dir, 'twin');
    const ipPrefix = 'random';
    let twinPid: number | undefined;
    let cluster: Cluster | undefined;
    const started = Date.now();
    const phase = (what: string) => console.log(`load-scale: ${what} at ${((Date.now() - started) / 1000).toFixed(1)}s`);
    try {
      await execa(
        process.execPath,
        [BIN, 'twin', 'up', '--detach', '--state-dir', stateDir, '--gateway-port', '0', '--ip-prefix', ipPrefix],
        { timeout: 120_000 },
      );
      const state = JSON.parse(fs.readFileSync(path.join(stateDir, 'twin.json'), 'utf8')) as {
        pid: number;
        gatewayUrl: string;
        kubeconfigPath: string;
      };
      twinPid = state.pid;
      phase('twin up');
      cluster = await Cluster.connect({ kubeconfigPath: state.kubeconfigPath });
      await deployManifests(cluster, fastSeed(path.join(dir, 'seed-fast.yaml')), 180_000);
      await waitFor({
        name: `deploy/${EPP_DEPLOYMENT} rendered`,
        timeoutMs: 30_000,
        probe: async () => {
          const d = await cluster!.tryRead({ apiVersion: 'apps/v1', kind: 'Deployment', name: EPP_DEPLOYMENT, namespace: SCHEDULER_NS });
          return { done: !!d, state: d ? 'present' : 'absent' };
        },
      });
      await waitRollout(cluster, SCHEDULER_NS, EPP_DEPLOYMENT, 120_000);
      await waitCondition(
        cluster,
        { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name: 'llm-d-inference-scheduling', namespace: SCHEDULER_NS },
        'Accepted',
        'True',
        30_000,
      );

      phase('seed topology ready');
      const socketsBefore = socketCount();
      const t0 = Date.now();
      const result: LoadResult = await runLoad(
        {
          requests: REQUESTS,
          concurrency: CONCURRENCY,
          timeoutMs: 35_000,
          maxDurationMs: 300_000,
          request: {
            method: 'POST',
            path: '/v1/chat/completions',
            headers: { 'content-type': 'application/json' },
            body: {
              model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
              messages: [{ role: 'user', content: 'hello-{{i}}' }],
              max_tokens: 8,
              stream: false,
            },
          },
        },
        { baseUrl: state.gatewayUrl },
      );
      const wallMs = Date.now() - t0;
      // what each non-200 status and error kind said, once: evidence for whoever reads a surprising split
      const samples: Record<string, string> = {};
      for (const r of result.records) {
        const key = r.status !== undefined ? String(r.status) : (r.error ?? 'none');
        if (key !== '200' && samples[key] === undefined) samples[key] = (r.errorBody ?? r.errorMessage ?? '').slice(0, 200);
      }
      console.log(
        `load-scale: ${REQUESTS} requests in ${(wallMs / 1000).toFixed(1)}s (${((REQUESTS * 1000) / wallMs).toFixed(0)}/s), by status ${JSON.stringify(result.summary.byStatus)}, errors ${JSON.stringify(result.summary.errors)}, samples ${JSON.stringify(samples)}`,
      );
      await testInfo.attach('scale summary.json', {
        body: JSON.stringify({ wallMs, summary: result.summary, samples, incomplete: result.incomplete ?? null }, null, 2),
        contentType: 'application/json',
      });

      expect(result.incomplete).toBeUndefined();
      expect(result.records).toHaveLength(REQUESTS);
      expect(new Set(result.records.map((r) => r.index)).size).toBe(REQUESTS);
      const unaccounted = result.records.filter((r) => (r.status === undefined) === (r.error === undefined));
      expect(unaccounted).toHaveLength(0);
      const counted =
        Object.values(result.summary.byStatus).reduce((a, b) => a + b, 0) +
        Object.values(result.summary.errors).reduce((a, b) => a + (b ?? 0), 0);
      expect(counted).toBe(REQUESTS);
      expect(result.summary.requests).toBe(REQUESTS);

      // the engine closed every connection it opened (bounded wait for the kernel-side close to be seen)
      let socketsAfter = socketCount();
      for (let i = 0; i < 50 && socketsAfter > socketsBefore; i++) {
        await new Promise((r) => setTimeout(r, 100));
        socketsAfter = socketCount();
      }
      expect(socketsAfter).toBeLessThanOrEqual(socketsBefore);
    } finally {
      const records = pidRecords(stateDir);
      await execa(process.execPath, [BIN, 'twin', 'down', '--state-dir', stateDir], { timeout: 60_000, reject: false });
      phase('twin down');
      // every process the twin started, and the twin itself, is gone
      const left = records.filter((r) => alive(r.pid, r.startTime)).map((r) => `${r.pid} ${r.pod}`);
      if (twinPid !== undefined && alive(twinPid, null)) left.push(`${twinPid} twin`);
      fs.rmSync(dir, { recursive: true, force: true });
      expect(records.length).toBeGreaterThan(0);
      expect(left).toEqual([]);
    }
  });
});

import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../../cluster/driver.ts';
import { deploymentLogsAfter, markDeploymentLog } from '../../cluster/observe.ts';
import { RANDOM_IP_PREFIX, startTwin, type TwinHandle } from '../../twin/launcher.ts';
import { until } from '../helpers/until.ts';

/**
 * The harness counts the EPP's decisions from the lines its pods logged after a mark taken before the load. On a
 * real node the kubelet rotates a container log past containerLogMaxSize and `kubectl logs` serves only the current
 * file; a restarted container's earlier lines are in the previous container's log. The twin's kubelet rotates
 * (here at 4 KiB) and the harness must read across a restart and refuse to count a log that lost lines.
 */
test.describe.configure({ mode: 'serial', timeout: 120_000 });

const NS = 'default';
let twin: TwinHandle;
let cluster: Cluster;
let stateDir = '';

// prints the lines asked for (/say?line=x&n=3), exits 1 on /exit; nothing else, so the log holds only those
const PROGRAM = `
import http from 'node:http';
http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/exit') { res.end('bye'); setTimeout(() => process.exit(1), 10); return; }
  if (u.pathname === '/say') for (let i = 0; i < Number(u.searchParams.get('n') ?? 1); i++) console.log(u.searchParams.get('line'));
  res.end('ok');
}).listen(8000);
`;

async function podOf(): Promise<{ name: string; ip: string; restarts: number }> {
  const pods = await cluster.listPods(NS, 'app=chatty');
  const p = pods.find((x) => x.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  if (!p) throw new Error('no Ready chatty pod');
  return { name: p.metadata!.name!, ip: p.status!.podIP!, restarts: p.status?.containerStatuses?.[0]?.restartCount ?? 0 };
}

async function say(line: string, n = 1, wait = true): Promise<void> {
  const { ip, name } = await podOf();
  const res = await fetch(`http://${ip}:8000/say?line=${encodeURIComponent(line)}&n=${n}`);
  expect(res.status).toBe(200);
  await res.text();
  if (!wait) return;
  // in the log once the kubelet has written it
  await until(`${name} logged ${line}`, async () =>
    (await cluster.core.readNamespacedPodLog({ name, namespace: NS, tailLines: 1 })).includes(line),
  );
}

test.beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'pdh-logrot-'));
  twin = await startTwin({
    stateDir,
    gatewayPort: 0,
    ipPrefix: RANDOM_IP_PREFIX,
    containerLogRotation: { maxSizeBytes: 4096, maxFiles: 2 },
  });
  cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  await cluster.apply([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'chatty', namespace: NS }, data: { 'main.mjs': PROGRAM } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'chatty', namespace: NS },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'chatty' } },
        template: {
          metadata: { labels: { app: 'chatty' } },
          spec: {
            volumes: [{ name: 'p', configMap: { name: 'chatty' } }],
            containers: [
              {
                name: 'app',
                image: 'node:20',
                command: ['node', '/p/main.mjs'],
                volumeMounts: [{ name: 'p', mountPath: '/p' }],
                readinessProbe: { httpGet: { path: '/', port: 8000 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
  ]);
  await until('chatty Ready', async () => (await podOf().catch(() => undefined)) !== undefined, 60_000);
});

test.afterAll(async () => {
  try {
    await twin?.stop();
  } finally {
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
});

test("the lines after the mark, and after a container restart the previous container's too", async () => {
  await say('before');
  const mark = await markDeploymentLog(cluster, NS, 'chatty');
  await say('after-1');
  await say('after-2');
  expect((await deploymentLogsAfter(cluster, NS, 'chatty', mark)).after).toEqual(['after-1', 'after-2']);

  const { ip, restarts } = await podOf();
  await fetch(`http://${ip}:8000/exit`).then((r) => r.text());
  await until('chatty restarted and Ready', async () => ((await podOf().catch(() => undefined))?.restarts ?? restarts) > restarts, 60_000);
  await say('after-restart');
  const read = await deploymentLogsAfter(cluster, NS, 'chatty', mark);
  expect(read.after).toEqual(['after-1', 'after-2', 'after-restart']);
  expect(read.current, "the current container's whole log, as kubectl logs serves it").toEqual(['after-restart']);
});

test('a log the kubelet rotated past its mark is refused, not counted: kubectl logs serves only the current file', async () => {
  const mark = await markDeploymentLog(cluster, NS, 'chatty');
  await say('burst-line-of-some-sixty-bytes-to-fill-four-kibibytes-quickly', 100, false);
  await say('after-the-burst'); // the burst may end on a rotation, leaving the current file empty
  const { name } = await podOf();
  const served = await cluster.core.readNamespacedPodLog({ name, namespace: NS });
  expect(served.split('\n').filter(Boolean).length, 'what was rotated away is not served').toBeLessThan(101);
  expect(served).toContain('after-the-burst');
  await expect(deploymentLogsAfter(cluster, NS, 'chatty', mark)).rejects.toThrow(
    /^pod chatty-\S+: its log no longer holds the line it ended with when the load started .*containerLogMaxSize/,
  );
});

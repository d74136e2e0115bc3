import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '#client-node';
import { parse as parseYaml } from '#yaml';
import { startApiServer } from '../../twin/apiserver/server.ts';
import type { ApiServerHandle } from '../../twin/apiserver/server.ts';
import { podLogPath } from '../../twin/runtime/cri-log.ts';
import { startFakeKubelet } from './apiserver-fake-kubelet.ts';

test.describe.configure({ mode: 'serial' });

/**
 * `kubectl` from PATH, plus every binary in PD_HARNESS_KUBECTLS (colon-separated paths): `.ci/run` puts Debian's
 * kubectl 1.20 there when PATH has a newer one, so CI checks both versions the twin promises to serve.
 */
function kubectlBinaries(): string[] {
  const extra = (process.env['PD_HARNESS_KUBECTLS'] ?? '').split(':').filter(Boolean);
  return ['kubectl', ...extra.filter((b) => b !== 'kubectl')];
}

/** `v1.20.2`, or undefined when the binary does not run. */
function kubectlVersion(bin: string): string | undefined {
  try {
    const out = execFileSync(bin, ['version', '--client'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /GitVersion:"(v[^"]+)"/.exec(out)?.[1] ?? /Client Version: (v\d\S*)/.exec(out)?.[1] ?? 'unknown version';
  } catch {
    return undefined;
  }
}

const manifest = (envValue: string) => `
apiVersion: v1
kind: Namespace
metadata: {name: kc}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: kc, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: main
        image: registry.k8s.io/pause:3.9
        ports: [{containerPort: 8080, name: http}]
        env: [{name: MODE, value: "${envValue}"}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: kc, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: kc}
data: {key: value}
---
apiVersion: sim.llm-d.io/v1alpha1
kind: SchedulerInstall
metadata: {name: llm-sched-install, namespace: kc}
spec: {epp: {configProfile: proxy-performance}}
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: vllm-proxy-performance, namespace: kc}
spec:
  selector: {matchLabels: {role: proxy}}
  targetPorts: [{number: 8080}]
  endpointPickerRef: {name: epp, port: {number: 9002}}
`;

for (const bin of kubectlBinaries()) {
  // Titles name the version, not the (temporary) path, so reports compare across runs.
  const version = kubectlVersion(bin);
  test.describe(version ? `kubectl ${version}` : `kubectl at ${bin} (does not run)`, () => {
    let h: ApiServerHandle;
    let kubelet: { stop(): void };
    let dir: string;

    test.beforeAll(async () => {
      if (!version)
        throw new Error(`${bin} does not run: install kubectl (e.g. apt-get install -y kubernetes-client) to run the twin kubectl tests`);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apiserver-kubectl-'));
      h = await startApiServer({ stateDir: dir });
      kubelet = startFakeKubelet(h.api, { ready: (p) => p.metadata.labels?.manual !== 'true' });
    });

    test.afterAll(async () => {
      kubelet?.stop();
      await h?.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    function kubectl(args: string[], opts: { input?: string; ok?: boolean } = {}) {
      const proc = execa(bin, ['--kubeconfig', h.kubeconfigPath, '--cache-dir', path.join(dir, 'cache'), ...args], {
        reject: false,
        timeout: 60_000,
        ...(opts.input !== undefined ? { input: opts.input } : {}),
        env: { HOME: dir },
      });
      const done = proc.then((res) => {
        if (opts.ok !== false && res.exitCode !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${res.exitCode}): ${res.stderr}`);
        return res;
      });
      return Object.assign(done, { stdout: proc.stdout });
    }

    /**
     * Status writes stand in for the kubelet, so they go through client-node: `kubectl patch --subresource` only
     * exists from kubectl 1.24 and the test also runs with Debian's kubectl 1.20.
     */
    async function patchPodStatus(namespace: string, name: string, body: object): Promise<void> {
      const kc = new KubeConfig();
      kc.loadFromFile(h.kubeconfigPath);
      await kc
        .makeApiClient(CoreV1Api)
        .patchNamespacedPodStatus({ name, namespace, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    }

    test('apply (client-side and --server-side), unchanged, configured', async () => {
      const first = await kubectl(['apply', '-f', '-'], { input: manifest('a') });
      expect(first.stdout).toContain('namespace/kc created');
      expect(first.stdout).toContain('deployment.apps/web created');
      expect(first.stdout).toContain('schedulerinstall.sim.llm-d.io/llm-sched-install created');
      expect(first.stdout).toContain('inferencepool.inference.networking.k8s.io/vllm-proxy-performance created');
      const again = await kubectl(['apply', '-f', '-'], { input: manifest('a') });
      expect(again.stdout).toContain('deployment.apps/web unchanged');
      const changed = await kubectl(['apply', '-f', '-'], { input: manifest('b') });
      expect(changed.stdout).toContain('deployment.apps/web configured');
      const env = await kubectl(['-n', 'kc', 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env[0].value}']);
      expect(env.stdout).toBe('b');
      const ssa = await kubectl(['apply', '--server-side', '-f', '-'], { input: manifest('c') });
      expect(ssa.stdout).toContain('deployment.apps/web serverside-applied');
      const env2 = await kubectl(['-n', 'kc', 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env[0].value}']);
      expect(env2.stdout).toBe('c');
    });

    test('get tables, -o wide/json/yaml, -l selectors, describe, CR printer columns', async () => {
      await expect
        .poll(async () => (await kubectl(['-n', 'kc', 'get', 'deploy', 'web'])).stdout, { timeout: 30_000 })
        .toMatch(/web\s+2\/2\s+2\s+2\s+/);
      const pods = await kubectl(['-n', 'kc', 'get', 'pods', '-o', 'wide']);
      expect(pods.stdout).toMatch(/NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
      expect(pods.stdout).toMatch(/web-[a-z0-9]+-[a-z0-9]{5}\s+1\/1\s+Running\s+0/);
      const svc = await kubectl(['-n', 'kc', 'get', 'svc']);
      expect(svc.stdout).toMatch(/web\s+ClusterIP\s+10\.96\.\d+\.\d+\s+<none>\s+80\/TCP/);
      const json = JSON.parse((await kubectl(['-n', 'kc', 'get', 'pods', '-l', 'app=web', '-o', 'json'])).stdout) as { items: unknown[] };
      expect(json.items).toHaveLength(2);
      const none = JSON.parse((await kubectl(['-n', 'kc', 'get', 'pods', '-l', 'app notin (web)', '-o', 'json'])).stdout) as {
        items: unknown[];
      };
      expect(none.items).toHaveLength(0);
      const yml = parseYaml((await kubectl(['-n', 'kc', 'get', 'cm', 'cfg', '-o', 'yaml'])).stdout) as { data: Record<string, string> };
      expect(yml.data).toEqual({ key: 'value' });
      const si = await kubectl(['-n', 'kc', 'get', 'schedulerinstall']);
      expect(si.stdout).toMatch(/NAME\s+PROFILE\s+AGE/);
      expect(si.stdout).toMatch(/llm-sched-install\s+proxy-performance/);
      const desc = await kubectl(['-n', 'kc', 'describe', 'deploy', 'web']);
      expect(desc.stdout).toMatch(/Replicas:\s+2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable/);
      expect(desc.stdout).toContain('ScalingReplicaSet');
      const descPod = await kubectl(['-n', 'kc', 'describe', 'pods', '-l', 'app=web']);
      expect(descPod.stdout).toContain('Node:');
      const ep = await kubectl(['-n', 'kc', 'get', 'endpoints', 'web']);
      expect(ep.stdout).toMatch(/127\.0\.1\.\d+:8080/);
    });

    test('patch --type=merge|json|strategic, scale, rollout restart + rollout status', async () => {
      await kubectl(['-n', 'kc', 'patch', 'cm', 'cfg', '--type=merge', '-p', '{"data":{"m":"1"}}']);
      await kubectl(['-n', 'kc', 'patch', 'cm', 'cfg', '--type=json', '-p', '[{"op":"add","path":"/data/j","value":"2"}]']);
      await kubectl([
        '-n',
        'kc',
        'patch',
        'deploy',
        'web',
        '--type=strategic',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"main","env":[{"name":"EXTRA","value":"x"}]}]}}}}',
      ]);
      const cm = JSON.parse((await kubectl(['-n', 'kc', 'get', 'cm', 'cfg', '-o', 'json'])).stdout) as { data: Record<string, string> };
      expect(cm.data).toEqual({ key: 'value', m: '1', j: '2' });
      const env = JSON.parse(
        (await kubectl(['-n', 'kc', 'get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].env}'])).stdout,
      ) as Array<{ name: string }>;
      expect(env.map((e) => e.name)).toEqual(['MODE', 'EXTRA']);
      const bad = await kubectl(['-n', 'kc', 'patch', 'cm', 'cfg', '--type=json', '-p', '[{"op":"remove","path":"/nope/x"}]'], {
        ok: false,
      });
      expect(bad.exitCode).not.toBe(0);
      expect(bad.stderr).toMatch(/invalid|rejected/i);

      await kubectl(['-n', 'kc', 'rollout', 'status', 'deploy/web', '--timeout=60s']);
      const scaled = await kubectl(['-n', 'kc', 'scale', 'deploy/web', '--replicas=3']);
      expect(scaled.stdout).toContain('deployment.apps/web scaled');
      await kubectl(['-n', 'kc', 'rollout', 'status', 'deploy/web', '--timeout=60s']);
      await expect
        .poll(
          async () => (await kubectl(['-n', 'kc', 'get', 'pods', '-l', 'app=web', '-o', 'name'])).stdout.split('\n').filter(Boolean).length,
          { timeout: 30_000 },
        )
        .toBe(3);

      const before = (await kubectl(['-n', 'kc', 'get', 'rs', '-o', 'name'])).stdout.split('\n').filter(Boolean);
      const restart = await kubectl(['-n', 'kc', 'rollout', 'restart', 'deploy/web']);
      expect(restart.stdout).toContain('deployment.apps/web restarted');
      const status = await kubectl(['-n', 'kc', 'rollout', 'status', 'deploy/web', '--timeout=60s']);
      expect(status.stdout).toContain('successfully rolled out');
      const after = (await kubectl(['-n', 'kc', 'get', 'rs', '-o', 'name'])).stdout.split('\n').filter(Boolean);
      expect(after.length).toBeGreaterThan(before.length);
      const d = JSON.parse((await kubectl(['-n', 'kc', 'get', 'deploy', 'web', '-o', 'json'])).stdout) as {
        metadata: { annotations: Record<string, string> };
        status: Record<string, number>;
      };
      expect(d.status.updatedReplicas).toBe(3);
      expect(d.status.availableReplicas).toBe(3);
      expect(Number(d.metadata.annotations['deployment.kubernetes.io/revision'])).toBeGreaterThanOrEqual(3);
    });

    test('wait --for=condition=Ready, logs, delete pod, get events, Status errors', async () => {
      await kubectl(['-n', 'kc', 'apply', '-f', '-'], {
        input:
          'apiVersion: v1\nkind: Pod\nmetadata: {name: solo, namespace: kc, labels: {manual: "true"}}\nspec:\n  containers: [{name: main, image: registry.k8s.io/pause:3.9}]\n',
      });
      await expect
        .poll(async () => (await kubectl(['-n', 'kc', 'get', 'pod', 'solo', '-o', 'jsonpath={.status.phase}'])).stdout)
        .toBe('Running');
      const waiting = kubectl(['-n', 'kc', 'wait', '--for=condition=Ready', 'pod/solo', '--timeout=60s']);
      const now = new Date().toISOString();
      await patchPodStatus('kc', 'solo', { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } });
      expect((await waiting).stdout).toContain('pod/solo condition met');

      // the files the kubelet would write (twin/runtime/cri-log.ts podLogPath)
      const soloUid = JSON.parse((await kubectl(['-n', 'kc', 'get', 'pod', 'solo', '-o', 'json'])).stdout).metadata.uid as string;
      const logFile = (restart: number) => podLogPath(dir, { namespace: 'kc', name: 'solo', uid: soloUid }, 'main', restart);
      fs.mkdirSync(path.dirname(logFile(0)), { recursive: true });
      fs.writeFileSync(logFile(0), '2026-01-01T00:00:00Z stdout F hello\n2026-01-01T00:00:01Z stderr F world\n');
      expect((await kubectl(['-n', 'kc', 'logs', 'solo'])).stdout).toBe('hello\nworld');
      expect((await kubectl(['-n', 'kc', 'logs', 'solo', '--tail=1'])).stdout).toBe('world');
      expect((await kubectl(['-n', 'kc', 'logs', 'solo', '--timestamps', '--tail=1'])).stdout).toBe('2026-01-01T00:00:01Z world');
      expect((await kubectl(['-n', 'kc', 'logs', 'solo', '--since=1h'])).stdout).toBe('');
      const noPrev = await kubectl(['-n', 'kc', 'logs', 'solo', '--previous'], { ok: false });
      expect(noPrev.stderr).toContain('previous terminated container "main" in pod "solo" not found');

      // logs -f streams new lines and ends when the container restarts.
      const follow = kubectl(['-n', 'kc', 'logs', '-f', 'solo']);
      let streamed = '';
      follow.stdout?.on('data', (c: Buffer) => (streamed += c.toString()));
      fs.appendFileSync(logFile(0), '2026-01-01T00:00:02Z stdout F streamed\n');
      // Once kubectl has printed the new line it is connected; only then restart the container.
      await expect.poll(() => streamed, { timeout: 30_000 }).toContain('streamed');
      const restarted = {
        status: {
          containerStatuses: [
            {
              name: 'main',
              ready: true,
              restartCount: 1,
              image: 'registry.k8s.io/pause:3.9',
              imageID: '',
              state: { running: { startedAt: new Date().toISOString() } },
              lastState: { terminated: { exitCode: 137, reason: 'Error', finishedAt: new Date().toISOString() } },
            },
          ],
        },
      };
      await patchPodStatus('kc', 'solo', restarted);
      expect((await follow).stdout).toBe('hello\nworld\nstreamed');
      fs.writeFileSync(logFile(1), '2026-01-01T00:01:00Z stdout F second run\n');
      expect((await kubectl(['-n', 'kc', 'logs', 'solo'])).stdout).toBe('second run');
      expect((await kubectl(['-n', 'kc', 'logs', 'solo', '--previous'])).stdout).toBe('hello\nworld\nstreamed');
      const prev = await kubectl(['-n', 'kc', 'logs', 'solo', '-c', 'nope'], { ok: false });
      expect(prev.exitCode).not.toBe(0);
      expect(prev.stderr).toContain('container nope is not valid for pod solo');

      const del = await kubectl(['-n', 'kc', 'delete', 'pod', 'solo', '--wait=false']);
      expect(del.stdout).toContain('pod "solo" deleted');
      await expect
        .poll(async () => (await kubectl(['-n', 'kc', 'get', 'pod', 'solo'], { ok: false })).stderr)
        .toContain('Error from server (NotFound): pods "solo" not found');

      const events = await kubectl(['-n', 'kc', 'get', 'events']);
      expect(events.stdout).toMatch(/LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
      expect(events.stdout).toMatch(/Normal\s+ScalingReplicaSet\s+deployment\/web\s+Scaled up replica set web-/);
      expect(events.stdout).toContain('SuccessfulCreate');

      // kubectl create sends protobuf for ConfigMaps
      const created = await kubectl(['-n', 'kc', 'create', 'configmap', 'from-cli', '--from-literal=a=b']);
      expect(created.stdout).toContain('configmap/from-cli created');
      expect((await kubectl(['-n', 'kc', 'get', 'cm', 'from-cli', '-o', 'jsonpath={.data.a}'])).stdout).toBe('b');
      const invalid = await kubectl(['-n', 'kc', 'create', 'configmap', 'Bad_Name'], { ok: false });
      expect(invalid.stderr).toContain('is invalid');
    });

    test('delete namespace removes its objects', async () => {
      await kubectl(['delete', 'namespace', 'kc', '--wait=false']);
      await expect.poll(async () => (await kubectl(['get', 'ns', 'kc'], { ok: false })).exitCode, { timeout: 30_000 }).not.toBe(0);
      expect(h.api.store.peek('/pods', 'kc')).toHaveLength(0);
      expect(h.api.store.peek('apps/deployments', 'kc')).toHaveLength(0);
    });
  });
}

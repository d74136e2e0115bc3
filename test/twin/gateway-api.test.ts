/**
 * The twin gateway against the twin API server, with real EPP processes (watching the API) and tiny HTTP servers
 * as pod endpoints. Pod objects are created and marked Ready by hand through the status subresource (no kubelet).
 */
import { expect, test } from '@playwright/test';
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '#client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLoad } from '../../load/builtin/engine.ts';
import { startApiServer, type ApiServerHandle } from '../../twin/apiserver/server.ts';
import { startGateway, type GatewayHandle } from '../../twin/gateway/index.ts';
import { eppConfigYaml } from '../../twin/operator/render.ts';
import { programArgs } from '../helpers/node-program.ts';

const VLLM = 'llm-d-vllm';
const SCHED = 'llm-d-inference-scheduler';
const APP = 'app';
const POLL = { timeout: 60_000 };

// The EPP configs the SchedulerInstall operator renders for the seed's two profiles.
const ACTIVE = eppConfigYaml('proxy-performance');
const BY_BACKEND = eppConfigYaml('proxy-performance-by-backend');

interface Backend {
  name: string;
  ip: string;
  server: http.Server;
  seen: { headers: http.IncomingHttpHeaders; path: string }[];
}

let dir: string;
let api: ApiServerHandle;
let gw: GatewayHandle;
let core: CoreV1Api;
let custom: CustomObjectsApi;
const backends: Backend[] = [];
const epps: { proc: ChildProcess; out: string[]; grpcPort: number }[] = [];
let backendPort = 0;
const gatewayLog: string[] = [];

/** Two loopback addresses sharing one port, as pods do (each pod has its own IP). */
async function startBackends(names: string[]): Promise<void> {
  for (let attempt = 0; attempt < 10 && backends.length < names.length; attempt++) {
    const base = 100 + Math.floor(Math.random() * 150);
    try {
      for (const [i, name] of names.entries()) {
        const ip = `127.88.${base}.${i + 10}`;
        const seen: Backend['seen'] = [];
        const server = http.createServer((req, res) => {
          if (req.url !== '/metrics') seen.push({ headers: req.headers, path: req.url ?? '' }); // the EPP scrapes /metrics
          const delay = Number(req.headers['x-delay'] ?? 0);
          req.resume();
          req.on('end', () => {
            const stream = req.headers['x-stream'];
            if (stream) {
              // SSE: headers and a first chunk now, the end after x-delay; "done" ends with data: [DONE], "cut" without it
              res.writeHead(200, { 'content-type': 'text/event-stream', 'x-served-by': name });
              res.write(`data: ${JSON.stringify({ servedBy: name })}\n\n`);
              const t = setTimeout(() => res.end(stream === 'done' ? 'data: [DONE]\n\n' : ''), Math.min(delay, 10_000));
              res.on('close', () => clearTimeout(t));
              return;
            }
            const t = setTimeout(
              () => {
                res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': name });
                res.end(JSON.stringify({ servedBy: name }));
              },
              Math.min(delay, 10_000),
            );
            res.on('close', () => clearTimeout(t));
          });
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(backendPort, ip, () => resolve());
        });
        backendPort = (server.address() as AddressInfo).port;
        backends.push({ name, ip, server, seen });
      }
    } catch {
      for (const b of backends.splice(0)) b.server.close();
      backendPort = 0;
    }
  }
  expect(backends).toHaveLength(names.length);
}

function startEpp(poolName: string, config: string): Promise<{ grpcPort: number; out: string[] }> {
  const cfg = path.join(dir, `${poolName}.yaml`);
  fs.writeFileSync(cfg, config);
  const proc = spawn(
    process.execPath,
    [
      ...programArgs('twin/sims/epp/main.ts'),
      '--pool-name',
      poolName,
      `--pool-namespace=${VLLM}`,
      '--config-file',
      cfg,
      '--grpc-port=0',
      '--grpc-health-port=0',
      '--metrics-port=0',
      '--zap-encoder=json',
      '--listen-host=127.0.0.1',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: api.kubeconfigPath, POD_IP: '', EPP_SCRAPE_INTERVAL_MS: '1000' },
    },
  );
  const out: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    out.push(...parts);
  });
  proc.stderr!.on('data', (c: Buffer) => out.push(`stderr: ${c.toString()}`));
  const entry = { proc, out, grpcPort: 0 };
  epps.push(entry);
  return expect
    .poll(() => out.some((l) => l.includes('EPP servers listening')), { timeout: 60_000 })
    .toBe(true)
    .then(() => {
      entry.grpcPort = JSON.parse(out.find((l) => l.includes('EPP servers listening'))!).grpcPort;
      return entry;
    });
}

async function createPod(ns: string, name: string, labels: Record<string, string>, ip: string, ready = true): Promise<void> {
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name, labels },
      spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9', ports: [{ name: 'http', containerPort: backendPort }] }] },
    },
  });
  await core.patchNamespacedPodStatus(
    {
      name,
      namespace: ns,
      body: {
        status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

async function createCustom(group: string, version: string, plural: string, ns: string, body: Record<string, unknown>) {
  await custom.createNamespacedCustomObject({
    group,
    version,
    namespace: ns,
    plural,
    body: { apiVersion: `${group}/${version}`, ...body },
  });
}

function pool(name: string, selector: Record<string, string>, epp: string, failureMode?: 'FailOpen' | 'FailClose') {
  return createCustom('inference.networking.k8s.io', 'v1', 'inferencepools', VLLM, {
    kind: 'InferencePool',
    metadata: { name },
    spec: {
      selector: { matchLabels: selector },
      targetPorts: [{ number: backendPort }],
      endpointPickerRef: { name: epp, port: { number: 9002 }, ...(failureMode ? { failureMode } : {}) },
    },
  });
}

const poolRef = (name: string) => ({
  group: 'inference.networking.k8s.io',
  kind: 'InferencePool',
  name,
  namespace: VLLM,
  port: backendPort,
});

async function call(
  pathname: string,
  opts: { headers?: Record<string, string>; body?: unknown; signal?: AbortSignal; method?: string } = {},
) {
  const res = await fetch(`${gw.url}${pathname}`, {
    method: opts.method ?? 'POST',
    headers: { 'content-type': 'application/json', ...(opts.headers ?? {}) },
    ...(opts.method === 'GET'
      ? {}
      : {
          body: JSON.stringify(
            opts.body ?? { model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', messages: [{ role: 'user', content: 'hello' }], max_tokens: 8 },
          ),
        }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { status: res.status, servedBy: res.headers.get('x-served-by'), text: await res.text() };
}

async function eppState(grpcPort: number): Promise<{ inFlightRequests: number; endpoints: { pod: string; inFlight: number }[] }> {
  return (await fetch(`http://127.0.0.1:${grpcPort}/v1/state`)).json() as never;
}

test.describe('twin gateway against the twin API server', () => {
  test.describe.configure({ mode: 'serial' });
  let mainEpp: { grpcPort: number; out: string[] };
  let restartableEpp: { grpcPort: number; out: string[] };

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gateway-twin-'));
    api = await startApiServer({ stateDir: dir, port: 0, token: 'gateway-test-token', controllers: false });
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    custom = kc.makeApiClient(CustomObjectsApi);
    for (const ns of [VLLM, SCHED, APP]) await core.createNamespace({ body: { metadata: { name: ns } } });

    await startBackends(['vllm-p2p-proxy-1', 'vllm-fs-proxy-1']);
    const [p2p, fsb] = backends;
    await createPod(VLLM, 'vllm-p2p-proxy-5d9c7b7f6-x2k4q', { app: 'vllm-p2p-test', role: 'proxy' }, p2p!.ip);
    await createPod(VLLM, 'vllm-fs-proxy-7c8d9e0f1-abcde', { app: 'vllm-fs-test', role: 'proxy' }, fsb!.ip);
    for (const [name, app] of [
      ['vllm-p2p-proxy', 'vllm-p2p-test'],
      ['vllm-fs-proxy', 'vllm-fs-test'],
    ] as const) {
      await core.createNamespacedService({
        namespace: VLLM,
        body: { metadata: { name }, spec: { selector: { app, role: 'proxy' }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] } },
      });
    }

    // EPPs: processes watching the API; each gets a Service (port 9002 → its real port) and a Ready pod on 127.0.0.1
    const [first, byBackendEpp, restartable] = await Promise.all([
      startEpp('vllm-proxy-performance', ACTIVE),
      startEpp('by-backend', BY_BACKEND),
      startEpp('restartable', ACTIVE),
    ]);
    mainEpp = first;
    restartableEpp = restartable;
    const eppSvc = async (name: string, grpcPort: number) => {
      await createPod(SCHED, `${name}-pod`, { app: name }, '127.0.0.1');
      await core.createNamespacedService({
        namespace: SCHED,
        body: { metadata: { name }, spec: { selector: { app: name }, ports: [{ name: 'grpc', port: 9002, targetPort: grpcPort }] } },
      });
      // as the SchedulerInstall operator renders it: the EPP Service in the pool namespace, no selector, its
      // Endpoints on the EPP pod (an ExternalName endpointPickerRef is refused, InferencePool v1 API)
      await core.createNamespacedService({
        namespace: VLLM,
        body: { metadata: { name }, spec: { ports: [{ name: 'grpc', port: 9002, targetPort: grpcPort }] } },
      });
      await core.createNamespacedEndpoints({
        namespace: VLLM,
        body: { metadata: { name }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'grpc', port: grpcPort }] }] },
      });
    };
    await eppSvc('gaie-inference-scheduling-epp', mainEpp.grpcPort);
    await eppSvc('by-backend-epp', byBackendEpp.grpcPort);
    await eppSvc('restartable-epp', restartable.grpcPort);
    // a dead EPP: a Ready pod behind a Service whose port nothing listens on
    const dead = http.createServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    await eppSvc('dead-epp', deadPort);

    await pool('vllm-proxy-performance', { role: 'proxy' }, 'gaie-inference-scheduling-epp');
    await pool('by-backend', { role: 'proxy' }, 'by-backend-epp');
    await pool('empty', { role: 'nothing-has-this' }, 'gaie-inference-scheduling-epp');
    await pool('fail-open', { role: 'proxy' }, 'dead-epp', 'FailOpen');
    await pool('fail-close', { role: 'proxy' }, 'dead-epp', 'FailClose');
    await pool('restartable', { role: 'proxy' }, 'restartable-epp');

    await createCustom('gateway.networking.k8s.io', 'v1', 'gateways', SCHED, {
      kind: 'Gateway',
      metadata: { name: 'infra-inference-scheduling-inference-gateway' },
      spec: { gatewayClassName: 'twin', listeners: [{ name: 'default', port: 80, protocol: 'HTTP' }] },
    });
    const parentRefs = [{ name: 'infra-inference-scheduling-inference-gateway', namespace: SCHED }];
    const prefixRule = (prefix: string, backendRefs: unknown[], extra: Record<string, unknown> = {}) => ({
      matches: [{ path: { type: 'PathPrefix', value: prefix } }],
      backendRefs,
      ...extra,
    });
    await createCustom('gateway.networking.k8s.io', 'v1', 'httproutes', SCHED, {
      kind: 'HTTPRoute',
      metadata: { name: 'llm-d-inference-scheduling' },
      spec: {
        parentRefs,
        rules: [
          prefixRule('/v1', [poolRef('vllm-proxy-performance')]),
          prefixRule('/by-backend', [poolRef('by-backend')]),
          prefixRule('/empty', [poolRef('empty')]),
          prefixRule('/fail-open', [poolRef('fail-open')]),
          prefixRule('/fail-close', [poolRef('fail-close')]),
          prefixRule('/restartable', [poolRef('restartable')]),
          prefixRule('/slow', [poolRef('vllm-proxy-performance')], { timeouts: { request: '300ms' } }),
        ],
      },
    });
    await createCustom('gateway.networking.k8s.io', 'v1', 'httproutes', SCHED, {
      kind: 'HTTPRoute',
      metadata: { name: 'vllm-ab-test' },
      spec: {
        parentRefs,
        rules: ['nvlink', 'fs'].map((v) => ({
          matches: [{ path: { type: 'PathPrefix', value: '/ab' }, headers: [{ name: 'x-kv-backend', value: v }] }],
          backendRefs: [{ name: v === 'nvlink' ? 'vllm-p2p-proxy' : 'vllm-fs-proxy', namespace: VLLM, port: 8080 }],
        })),
      },
    });

    gw = await startGateway({ kubeconfigPath: api.kubeconfigPath, port: 0, log: (l) => gatewayLog.push(l) });
    await gw.ready;
    await expect.poll(async () => (await eppState(mainEpp.grpcPort)).endpoints.length, POLL).toBe(2);
    await expect.poll(async () => (await call('/v1/chat/completions')).status, POLL).toBe(200);
  });

  test.afterAll(async () => {
    await gw?.stop();
    await gw?.stop(); // idempotent
    const running = (e: (typeof epps)[number]) => e.proc.exitCode === null && e.proc.signalCode === null;
    const exits = epps.filter(running).map((e) => new Promise((r) => e.proc.once('exit', r)));
    for (const e of epps) if (running(e)) e.proc.kill('SIGTERM');
    await Promise.all(exits);
    await Promise.all(
      backends.map(
        (b) =>
          new Promise((r) => {
            b.server.closeAllConnections();
            b.server.close(r);
          }),
      ),
    );
    await api?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('InferencePool route: the EPP spreads load over both proxies, headers pass through, in-flight returns to 0', async () => {
    for (const b of backends) b.seen.length = 0;
    const served: string[] = [];
    for (let batch = 0; batch < 5; batch++) {
      const res = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          call('/v1/chat/completions', { headers: { 'x-request-id': `req-${batch}-${i}`, 'x-delay': '30' } }),
        ),
      );
      for (const r of res) {
        expect(r.status).toBe(200);
        served.push(r.servedBy!);
      }
    }
    expect(new Set(served)).toEqual(new Set(['vllm-p2p-proxy-1', 'vllm-fs-proxy-1']));
    const seen = backends.flatMap((b) => b.seen.map((s) => ({ b, s })));
    expect(seen).toHaveLength(30);
    for (const { b, s } of seen) {
      expect(s.headers['x-request-id']).toMatch(/^req-\d-\d$/);
      expect(s.headers['x-gateway-destination-endpoint']).toBe(`${b.ip}:${backendPort}`);
      expect(s.path).toBe('/v1/chat/completions');
    }
    await expect.poll(async () => (await eppState(mainEpp.grpcPort)).inFlightRequests, POLL).toBe(0);
    const st = await eppState(mainEpp.grpcPort);
    expect(st.endpoints.map((e) => e.inFlight)).toEqual([0, 0]);
    const decisions = mainEpp.out.filter((l) => l.includes('"msg":"Scoring decision"'));
    expect(decisions.length).toBeGreaterThanOrEqual(30);
    expect(decisions.some((l) => l.includes('"selected":["llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0"]'))).toBe(true);
    expect(decisions.some((l) => l.includes('"selected":["llm-d-vllm/vllm-fs-proxy-7c8d9e0f1-abcde-rank-0"]'))).toBe(true);
  });

  test('header A/B route reaches only the matching Service; no match is a 404', async () => {
    for (let i = 0; i < 4; i++) {
      expect((await call('/ab/v1/completions', { headers: { 'x-kv-backend': 'nvlink' } })).servedBy).toBe('vllm-p2p-proxy-1');
      expect((await call('/ab/v1/completions', { headers: { 'x-kv-backend': 'fs' } })).servedBy).toBe('vllm-fs-proxy-1');
    }
    const none = await call('/ab/v1/completions', { headers: { 'x-kv-backend': 'tcp' } });
    expect(none.status).toBe(404);
    expect((await call('/nothing-here')).status).toBe(404);
  });

  test('EPP 429 passes through with InferencePoolResourceExhausted; a pool with no ready pod is 503', async () => {
    const r = await call('/by-backend/v1/completions');
    expect(r.status).toBe(429);
    expect(r.text).toContain('InferencePoolResourceExhausted');
    expect((await call('/empty/v1/completions')).status).toBe(503);
  });

  test("EPP down: FailOpen serves from a ready endpoint, FailClose answers Envoy's 500 with an empty body", async () => {
    const open = await call('/fail-open/v1/completions');
    expect(open.status).toBe(200);
    expect(['vllm-p2p-proxy-1', 'vllm-fs-proxy-1']).toContain(open.servedBy);
    // Envoy ext_proc with failure_mode_allow false: a failed ext-proc call is a local 500 (ext_proc_error_gRPC_error_14)
    expect(await call('/fail-close/v1/completions')).toEqual({ status: 500, servedBy: null, text: '' });
  });

  test("a request without a body is not scheduled; a body without model is the EPP's 400", async () => {
    const before = mainEpp.out.filter((l) => l.includes('"msg":"Scoring decision"')).length;
    const get = await call('/v1/models', { method: 'GET' });
    expect(get.status).toBe(200);
    expect(['vllm-p2p-proxy-1', 'vllm-fs-proxy-1']).toContain(get.servedBy);
    expect((await eppState(mainEpp.grpcPort)).inFlightRequests).toBe(0);
    const bad = await call('/v1/completions', { body: { prompt: 'no model here' } });
    expect(bad).toEqual({ status: 400, servedBy: null, text: 'inference gateway: BadRequest - model not found in request body' });
    expect(mainEpp.out.filter((l) => l.includes('"msg":"Scoring decision"')).length).toBe(before);
  });

  test('a stream ends the count on data: [DONE]; a stream cut without it stays counted', async () => {
    const ok = await call('/v1/completions', { headers: { 'x-stream': 'done', 'x-delay': '20', 'x-request-id': 'sse-done' } });
    expect(ok.text).toContain('data: [DONE]');
    await expect.poll(async () => (await eppState(mainEpp.grpcPort)).inFlightRequests, POLL).toBe(0);
    const cut = await call('/v1/completions', { headers: { 'x-stream': 'cut', 'x-delay': '20', 'x-request-id': 'sse-cut' } });
    expect(cut.status).toBe(200);
    expect(cut.text).not.toContain('[DONE]');
    // llm-d v0.4.0 active_request.go: no ResponseComplete, the entry waits for requestTimeout (2m)
    expect((await eppState(mainEpp.grpcPort)).inFlightRequests).toBe(1);
  });

  test('timeouts.request expiry is a 504; a client abort keeps the EPP in-flight count (no ResponseComplete)', async () => {
    const base = (await eppState(mainEpp.grpcPort)).inFlightRequests;
    const slow = await call('/slow/v1/completions', { headers: { 'x-delay': '3000' } });
    expect(slow.status).toBe(504);
    const ac = new AbortController();
    const pending = call('/v1/completions', { headers: { 'x-delay': '5000', 'x-request-id': 'abort-me' }, signal: ac.signal }).catch(
      (e: Error) => e,
    );
    await expect.poll(async () => (await eppState(mainEpp.grpcPort)).inFlightRequests, POLL).toBe(base + 2);
    ac.abort();
    expect(await pending).toBeInstanceOf(Error);
    // both stay counted until the requestTimeout ticker, as in the real scorer
    const after = await eppState(mainEpp.grpcPort);
    expect(after.inFlightRequests).toBe(base + 2);
  });

  test('a stream in flight fails on the client when its EPP is killed (FailClose: the ext-proc stream breaks)', async () => {
    await expect.poll(async () => (await call('/restartable/v1/completions')).status, POLL).toBe(200);
    // the same through the builtin load engine, as a suite's load records it
    const load = runLoad(
      {
        requests: 1,
        concurrency: 1,
        timeoutMs: 30_000,
        stream: true,
        request: {
          method: 'POST',
          path: '/restartable/v1/completions',
          headers: { 'content-type': 'application/json', 'x-stream': 'done', 'x-delay': '8000', 'x-client': 'builtin' },
          body: { model: 'm', prompt: 'stream me too' },
        },
      },
      { baseUrl: gw.url },
    );
    await expect.poll(() => backends.some((b) => b.seen.some((s) => s.headers['x-client'] === 'builtin')), POLL).toBe(true);
    const res = await fetch(`${gw.url}/restartable/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-stream': 'done', 'x-delay': '8000' },
      body: JSON.stringify({ model: 'm', prompt: 'stream me' }),
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('servedBy');
    const entry = epps.find((e) => e.grpcPort === restartableEpp.grpcPort)!;
    entry.proc.kill('SIGKILL');
    const rest = await (async () => {
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) return 'ended';
        }
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    })();
    expect(rest).toMatch(/^error: /);
    // a failed request for the engine: no status kept, the cut after the 200 named, nothing counted as a 200
    const result = await load;
    expect(result.records).toHaveLength(1);
    const r = result.records[0]!;
    expect(r.status).toBeUndefined();
    expect(r.error).toBeDefined();
    expect(r.errorMessage).toMatch(/^after status 200: /);
    expect(result.summary.byStatus['200']).toBeUndefined();
    expect(Object.values(result.summary.errors).reduce((a, b) => a + (b ?? 0), 0)).toBe(1);
  });

  test('status: HTTPRoute parents, InferencePool parents, Gateway Programmed with its address', async () => {
    const get = (group: string, version: string, ns: string, plural: string, name: string) =>
      custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name }) as Promise<any>;
    await expect
      .poll(async () => {
        const r = await get('gateway.networking.k8s.io', 'v1', SCHED, 'httproutes', 'llm-d-inference-scheduling');
        return r.status?.parents?.[0]?.conditions?.map((c: any) => `${c.type}=${c.status}`);
      }, POLL)
      .toEqual(['Accepted=True', 'ResolvedRefs=True']);
    const route = await get('gateway.networking.k8s.io', 'v1', SCHED, 'httproutes', 'llm-d-inference-scheduling');
    expect(route.status.parents[0].controllerName).toBe('pd-harness.dev/twin-gateway');
    expect(route.status.parents[0].parentRef).toMatchObject({
      kind: 'Gateway',
      name: 'infra-inference-scheduling-inference-gateway',
      namespace: SCHED,
    });
    await expect
      .poll(async () => {
        const p = await get('inference.networking.k8s.io', 'v1', VLLM, 'inferencepools', 'vllm-proxy-performance');
        return p.status?.parents?.[0]?.conditions?.map((c: any) => `${c.type}=${c.status}`);
      }, POLL)
      .toEqual(['Accepted=True', 'ResolvedRefs=True']);
    await expect
      .poll(async () => {
        const g = await get('gateway.networking.k8s.io', 'v1', SCHED, 'gateways', 'infra-inference-scheduling-inference-gateway');
        return [g.status?.addresses?.[0]?.value, g.status?.conditions?.find((c: any) => c.type === 'Programmed')?.status];
      }, POLL)
      .toEqual(['127.0.0.1', 'True']);
  });

  test('pods coming and going update the EPP and the gateway', async () => {
    await core.patchNamespacedPodStatus(
      { name: 'vllm-fs-proxy-7c8d9e0f1-abcde', namespace: VLLM, body: { status: { conditions: [{ type: 'Ready', status: 'False' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await expect
      .poll(async () => (await eppState(mainEpp.grpcPort)).endpoints.map((e) => e.pod), POLL)
      .toEqual([`${VLLM}/vllm-p2p-proxy-5d9c7b7f6-x2k4q`]);
    for (let i = 0; i < 4; i++) expect((await call('/v1/completions')).servedBy).toBe('vllm-p2p-proxy-1');
    await expect.poll(async () => (await call('/ab/x', { headers: { 'x-kv-backend': 'fs' } })).status, POLL).toBe(503);
  });
});

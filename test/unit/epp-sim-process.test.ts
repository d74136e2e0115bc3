import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EppAgents, openEppStream, type EppStream, type EppTracking } from '../../twin/gateway/epp-stream.ts';
import { eppConfigYaml } from '../../twin/operator/render.ts';
import { programArgs } from '../helpers/node-program.ts';

/** The proxy-performance config as the SchedulerInstall operator renders it. */
const ACTIVE = eppConfigYaml('proxy-performance');

const QUEUE = `apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: max-score-picker
`;

interface Epp {
  proc: ChildProcess;
  out: string[];
  grpc: string;
  health: string;
  metrics: string;
  exited: Promise<number | null>;
}

const started: ChildProcess[] = [];
const servers: http.Server[] = [];
let dir: string;

test.beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'epp-sim-'));
});

test.afterAll(async () => {
  agents.close();
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(
    servers.map(
      (s) =>
        new Promise((r) => {
          s.closeAllConnections();
          s.close(r);
        }),
    ),
  );
  fs.rmSync(dir, { recursive: true, force: true });
});

function startEpp(args: string[]): { proc: ChildProcess; out: string[]; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [...programArgs('twin/sims/epp/main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, EPP_SCRAPE_INTERVAL_MS: '50', POD_IP: '' },
  });
  started.push(proc);
  const out: string[] = [];
  let buf = '';
  proc.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    out.push(...parts);
  });
  proc.stderr!.on('data', (c: Buffer) => out.push(`stderr: ${c.toString()}`));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return { proc, out, exited };
}

async function runningEpp(config: string, endpoints: unknown[], extraArgs: string[] = []): Promise<Epp> {
  const cfg = path.join(dir, `cfg-${started.length}.yaml`);
  fs.writeFileSync(cfg, config);
  const e = startEpp([
    '--pool-name',
    'vllm-proxy-performance',
    '--pool-namespace=llm-d-vllm',
    `--config-file=${cfg}`,
    '--grpc-port=0',
    '--grpc-health-port',
    '0',
    '--metrics-port=0',
    '--zap-encoder=json',
    '-v=4',
    '--listen-host=127.0.0.1',
    '--static-endpoints',
    JSON.stringify(endpoints),
    ...extraArgs,
  ]);
  await expect.poll(() => e.out.some((l) => l.includes('EPP servers listening')), { timeout: 20_000 }).toBe(true);
  // static endpoints are synced at once: the health port opens right after
  await expect.poll(() => e.out.some((l) => l.includes('EPP health server listening')), { timeout: 20_000 }).toBe(true);
  const ports = {
    ...JSON.parse(e.out.find((l) => l.includes('EPP servers listening'))!),
    ...JSON.parse(e.out.find((l) => l.includes('EPP health server listening'))!),
  };
  return {
    ...e,
    grpc: `http://127.0.0.1:${ports.grpcPort}`,
    health: `http://127.0.0.1:${ports.grpcHealthPort}`,
    metrics: `http://127.0.0.1:${ports.metricsPort}`,
  };
}

/** A tiny model-server stand-in exposing vLLM gauges on /metrics. */
async function metricsServer(waiting: number): Promise<number> {
  const s = http.createServer((_req, res) => {
    res.end(
      `# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name="m"} ${waiting}\nvllm:num_requests_running{model_name="m"} 1\nvllm:kv_cache_usage_perc{model_name="m"} 0.25\n`,
    );
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

const agents = new EppAgents();

/** A request's ext-proc stream stand-in, through the gateway's own client (twin/gateway/epp-stream.ts). */
async function stream(base: string, pick: Record<string, unknown>): Promise<EppStream> {
  return openEppStream(agents, new URL(base).host, { model: 'm', headers: {}, ...pick }, AbortSignal.timeout(10_000));
}

/** The pick's answer (a 200), or the EPP's immediate response. */
async function pick(base: string, req: Record<string, unknown>): Promise<{ status: number; body: any; tracking?: EppTracking }> {
  const s = await stream(base, req);
  return s.kind === 'picked'
    ? { status: 200, body: s.answer, ...(s.tracking ? { tracking: s.tracking } : {}) }
    : { status: s.status, body: s.text };
}

test('picks spread over two endpoints under concurrency, in-flight returns to 0 after done', async () => {
  const epp = await runningEpp(ACTIVE, [
    { namespace: 'llm-d-vllm', name: 'vllm-p2p-proxy-aaa-1', address: '127.0.0.1', port: 1, labels: { role: 'proxy' } },
    { namespace: 'llm-d-vllm', name: 'vllm-fs-proxy-bbb-2', address: '127.0.0.1', port: 2, labels: { role: 'proxy' } },
  ]);
  expect((await fetch(`${epp.health}/healthz`)).status).toBe(200);
  expect((await fetch(`${epp.health}/`)).status).toBe(200);
  const ids = Array.from({ length: 12 }, (_, i) => `req-${i}`);
  const picks = await Promise.all(ids.map((id) => pick(epp.grpc, { requestId: id, promptLength: 5 })));
  const byPod = new Map<string, number>();
  for (const p of picks) {
    expect(p.status).toBe(200);
    byPod.set(p.body.endpoints[0].pod, (byPod.get(p.body.endpoints[0].pod) ?? 0) + 1);
  }
  expect([...byPod.values()]).toEqual([6, 6]);
  let state = await getJson(`${epp.grpc}/v1/state`);
  expect(state.inFlightRequests).toBe(12);
  // ResponseComplete on each stream
  for (const p of picks) p.tracking!.finish(true);
  await expect.poll(async () => (await getJson(`${epp.grpc}/v1/state`)).inFlightRequests).toBe(0);
  state = await getJson(`${epp.grpc}/v1/state`);
  expect(state.endpoints.map((e: { inFlight: number }) => e.inFlight)).toEqual([0, 0]);

  const decisions = epp.out.filter((l) => l.includes('"msg":"Scoring decision"'));
  expect(decisions).toHaveLength(12);
  expect(epp.out.filter((l) => l.includes('"msg":"Scoring breakdown"'))).toHaveLength(12);
  // the active-request-scorer factory logs its timeout first (llm-d v0.4.0 scorer/active_request.go NewActiveRequest)
  expect(JSON.parse(epp.out[0]!)).toMatchObject({ level: 'info', msg: 'Using request timeout', requestTimeout: '2m' });
  // then the GAIE runner's start line (cmd/epp/runner/runner.go:318), in the real format
  expect(JSON.parse(epp.out.find((l) => l.includes('"msg":"parsed config"'))!)).toMatchObject({
    level: 'info',
    logger: 'setup',
    caller: 'runner/runner.go:318',
  });
  expect(JSON.parse(epp.out.find((l) => l.includes('Loaded scheduling profile'))!)).toMatchObject({
    msg: 'Loaded scheduling profile',
    Scorers: ['active-request-scorer'],
    Filters: [],
  });

  const metrics = await (await fetch(`${epp.metrics}/metrics`)).text();
  expect(metrics).toContain('inference_objective_request_total{model_name="m",target_model_name="m"} 12');
  expect(metrics).toContain('inference_pool_ready_pods{name="vllm-proxy-performance"} 2');
  expect(metrics).toMatch(/inference_extension_scheduler_e2e_duration_seconds_count 12/);
  expect(metrics).toMatch(/inference_objective_request_duration_seconds_count\{[^}]*\} 12/);

  epp.proc.kill('SIGTERM');
  expect(await epp.exited).toBe(0);
});

test('queue-scorer follows scraped vllm:num_requests_waiting', async () => {
  const busy = await metricsServer(7);
  const idle = await metricsServer(0);
  const epp = await runningEpp(QUEUE, [
    { namespace: 'ns', name: 'busy', address: '127.0.0.1', port: busy },
    { namespace: 'ns', name: 'idle', address: '127.0.0.1', port: idle },
  ]);
  await expect
    .poll(
      async () => {
        const s = await getJson(`${epp.grpc}/v1/state`);
        return s.endpoints.map((e: { metrics: { waiting: number } }) => e.metrics.waiting);
      },
      { timeout: 10_000 },
    )
    .toEqual([7, 0]);
  for (let i = 0; i < 5; i++) {
    const p = await pick(epp.grpc, { requestId: `q${i}`, promptLength: 1 });
    p.tracking?.finish(true);
    expect(p.body.endpoints[0].pod).toBe('ns/idle');
  }
  const metrics = await (await fetch(`${epp.metrics}/metrics`)).text();
  expect(metrics).toContain('inference_pool_average_queue_size{name="vllm-proxy-performance"} 3.5');
  // GAIE v1.2.0 scrapes vllm:gpu_cache_usage_perc by default; the server exports only the new name: KV usage stays 0
  expect(metrics).toContain('inference_pool_average_kv_cache_utilization{name="vllm-proxy-performance"} 0');
  expect(metrics).not.toContain('inference_pool_average_kv_cache_utilization{name="vllm-proxy-performance"} 0.25');
  epp.proc.kill('SIGTERM');
  expect(await epp.exited).toBe(0);
});

test('--kv-cache-usage-percentage-metric names the KV gauge the EPP scrapes', async () => {
  const port = await metricsServer(0);
  const epp = await runningEpp(
    QUEUE,
    [{ namespace: 'ns', name: 'a', address: '127.0.0.1', port }],
    ['--kv-cache-usage-percentage-metric=vllm:kv_cache_usage_perc'],
  );
  await expect.poll(async () => (await getJson(`${epp.grpc}/v1/state`)).endpoints[0].metrics.kvCacheUsage, { timeout: 10_000 }).toBe(0.25);
  epp.proc.kill('SIGTERM');
  expect(await epp.exited).toBe(0);
});

test('no candidate after filters: 429 with InferencePoolResourceExhausted; empty pool: 503', async () => {
  const byBackend = eppConfigYaml('proxy-performance-by-backend');
  const epp = await runningEpp(byBackend, [{ namespace: 'ns', name: 'p', address: '127.0.0.1', port: 1 }]);
  const p = await pick(epp.grpc, { requestId: 'x', promptLength: 1 });
  expect(p.status).toBe(429);
  // plain text, as the real ImmediateResponse body (GAIE v1.2.0 handlers/server.go buildErrResponse)
  expect(p.body).toBe(
    "inference gateway: InferencePoolResourceExhausted - failed to find target pod: failed to run scheduler profile 'default'",
  );
  await expect.poll(() => epp.out.some((l) => l.includes('"msg":"failed to run scheduler profile"'))).toBe(true);
  const metrics = await (await fetch(`${epp.metrics}/metrics`)).text();
  expect(metrics).toMatch(/inference_objective_request_error_total\{[^}]*error_code="InferencePoolResourceExhausted"[^}]*\} 1/);
  epp.proc.kill('SIGTERM');
  expect(await epp.exited).toBe(0);

  const empty = await runningEpp(ACTIVE, []);
  const { tracking: _none, ...none } = await pick(empty.grpc, { requestId: 'y' });
  expect(none).toEqual({
    status: 503,
    body: 'inference gateway: ServiceUnavailable - failed to find candidate pods for serving the request',
  });
  empty.proc.kill('SIGTERM');
  expect(await empty.exited).toBe(0);
});

test('unknown plugin type or broken YAML: one JSON error line and exit 1', async () => {
  for (const [config, expected] of [
    [
      'plugins:\n- type: teleport-scorer\n',
      "failed to load the configuration - failed to instantiate plugins - plugin type 'teleport-scorer' is not found in registry",
    ],
    ['plugins: [\n  - {type: x\n', 'failed to parse config - the configuration is invalid - error converting YAML to JSON'],
  ] as const) {
    const cfg = path.join(dir, `bad-${started.length}.yaml`);
    fs.writeFileSync(cfg, config);
    const e = startEpp([
      '--pool-name',
      'p',
      `--config-file=${cfg}`,
      '--grpc-port=0',
      '--grpc-health-port=0',
      '--metrics-port=0',
      '--static-endpoints',
      '[]',
    ]);
    expect(await e.exited).toBe(1);
    const last = JSON.parse(e.out.filter((l) => l.startsWith('{')).at(-1)!);
    expect(last.level).toBe('error');
    expect(last.error).toContain(expected);
    expect(e.out.join('\n')).not.toMatch(/\n\s+at /);
  }
});

test('the config path resolves through PD_TWIN_MOUNTS', async () => {
  const hostDir = path.join(dir, 'mount');
  fs.mkdirSync(hostDir);
  fs.writeFileSync(path.join(hostDir, 'epp-config.yaml'), ACTIVE);
  const { resolveMountedPath } = await import('../../twin/sims/epp/args.ts');
  const resolved = resolveMountedPath('/config-does-not-exist/epp-config.yaml', JSON.stringify({ '/config-does-not-exist': hostDir }));
  expect(resolved).toBe(path.join(hostDir, 'epp-config.yaml'));
  expect(fs.readFileSync(resolved, 'utf8')).toContain('active-request-scorer');
});

test('SIGTERM: new picks are refused, a request in flight keeps its stream until it ends, then the EPP exits 0', async () => {
  // no EPP_DRAIN_MS: the default is the real manager's 30s graceful shutdown
  const epp = await runningEpp(QUEUE, [{ namespace: 'ns', name: 'a', address: '127.0.0.1', port: 1 }]);
  const picked = await pick(epp.grpc, { requestId: 'inflight', body: JSON.stringify({ model: 'm', prompt: 'hi' }) });
  expect(picked.status).toBe(200);
  const inFlight = picked.tracking!;
  let broken = false;
  void inFlight.broken.then(() => (broken = true));
  epp.proc.kill('SIGTERM');
  // GAIE runnable.GRPCServer GracefulStop: no new stream...
  await expect
    .poll(async () =>
      stream(epp.grpc, { requestId: 'late' }).then(
        () => 'served',
        () => 'refused',
      ),
    )
    .toBe('refused');
  // ...while the one in flight keeps its stream (the EPP waits up to 30s for it), also past the twin's former 800 ms
  expect(broken).toBe(false);
  await new Promise((r) => setTimeout(r, 1_500));
  expect(broken).toBe(false);
  expect(epp.proc.exitCode).toBeNull();
  // the request ends (cut: no ResponseComplete): its stream ends, and the EPP with it
  inFlight.finish(false);
  expect(await epp.exited).toBe(0);
});

test('no config flag: the real runner has no scheduler config and exits 1', async () => {
  const e = startEpp(['--pool-name', 'p', '--grpc-port=0', '--grpc-health-port=0', '--metrics-port=0', '--static-endpoints', '[]']);
  expect(await e.exited).toBe(1);
  const last = JSON.parse(e.out.filter((l) => l.startsWith('{')).at(-1)!);
  expect(last.error).toBe('scheduler config must be set either by config api or through code');
});

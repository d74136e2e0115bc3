import { MessageChannel, Worker } from 'node:worker_threads';
import { Agent, request as undiciRequest } from 'undici';
import { UserError } from '../../cli/errors.ts';
import { parseDurationMs } from '../duration.ts';
import { assertLoadTarget } from '../loopback.ts';
import type { LoadResult, RequestRecord } from '../result.ts';
import { summarize } from '../summary.ts';
import { classifyError } from '../builtin/errors.ts';
import { bundleK6Script } from './bundle.ts';
import type { FromWorker, HttpCall, HttpReply, Sample, ToWorker } from './protocol.ts';
import { evaluateThresholds, type MetricSeries } from './thresholds.ts';
import { SseErrorScanner } from '../builtin/response.ts';

export interface K6ScriptRunOptions {
  script: string;
  /** `__ENV` of the script (like `k6 run -e K=V`). */
  env?: Record<string, string>;
  /** Sets `GATEWAY` in `__ENV` after the loopback check. */
  gatewayUrl?: string;
  allowRemote?: boolean;
  /** Hard bound on the run; in-flight iterations are abandoned after it. */
  maxDurationMs?: number;
  /** Every metric sample with its tags and time, as k6 writes them to `--out json` (load/k6/k6-cli.ts). */
  onSample?: (s: TaggedSample) => void;
  /**
   * k6's `--execution-segment` for equal segments `index/count:(index+1)/count` (what k6-operator passes):
   * this instance runs every count-th iteration / arrival of each scenario, from `index`.
   */
  executionSegment?: { index: number; count: number };
}

export interface TaggedSample {
  metric: string;
  type: Sample['type'];
  value: number;
  tags: Record<string, string>;
  timeMs: number;
}

interface Scenario {
  executor: string;
  vus?: number;
  iterations?: number;
  duration?: string;
  rate?: number;
  timeUnit?: string;
  preAllocatedVUs?: number;
  maxVUs?: number;
  maxDuration?: string;
  env?: Record<string, string>;
}

const K6_ERROR_CODES: Record<string, number> = { timeout: 1050, 'connection-refused': 1212, reset: 1220, aborted: 1000, other: 1000 };

function userError(script: string, message: string): UserError {
  return new UserError(`k6 script ${script}: ${message}`);
}

/** One VU: a worker running the bundle, answering HTTP calls for it on the main thread. */
class VuWorker {
  private readonly worker: Worker;
  private readonly flag = new SharedArrayBuffer(4);
  private pending: ((msg: FromWorker) => void) | undefined;
  private readonly ready: Promise<void>;
  iter = 0;

  constructor(code: string, readonly id: number, onHttp: (call: HttpCall) => Promise<HttpReply>) {
    const { port1, port2 } = new MessageChannel();
    const flag = new Int32Array(this.flag);
    port1.on('message', (call: HttpCall) => {
      void onHttp(call).then((reply) => {
        port1.postMessage(reply);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      });
    });
    port1.unref();
    this.worker = new Worker(code, { eval: true, workerData: { mode: 'vu', vuId: id, port: port2, flag: this.flag }, transferList: [port2] });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('error', reject);
      this.pending = (msg) => (msg.kind === 'ready' ? resolve() : reject(new Error(msg.kind === 'fatal' ? msg.error : 'unexpected message')));
    });
    this.worker.on('message', (msg: FromWorker) => {
      const p = this.pending;
      this.pending = undefined;
      p?.(msg);
    });
  }

  async iterate(scenario: string, env: Record<string, string>, iterationInTest?: number): Promise<Sample[]> {
    await this.ready;
    return new Promise((resolve, reject) => {
      this.pending = (msg) => {
        if (msg.kind === 'done') resolve(msg.samples);
        else reject(new Error(msg.kind === 'fatal' ? msg.error : 'unexpected message'));
      };
      const m: ToWorker = { kind: 'iterate', scenario, iter: this.iter++, env, ...(iterationInTest !== undefined ? { iterationInTest } : {}) };
      this.worker.postMessage(m);
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

async function readOptions(code: string, script: string): Promise<Record<string, unknown>> {
  const worker = new Worker(code, { eval: true, workerData: { mode: 'options', vuId: 0 } });
  try {
    const msg = await new Promise<FromWorker>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    if (msg.kind === 'fatal') throw userError(script, msg.error);
    if (msg.kind !== 'options') throw userError(script, 'no options from the init context');
    return (msg.options ?? {}) as Record<string, unknown>;
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw userError(script, err instanceof Error ? err.message : String(err));
  } finally {
    await worker.terminate();
  }
}

function scenariosOf(options: Record<string, unknown>): Record<string, Scenario> {
  const given = options['scenarios'] as Record<string, Scenario> | undefined;
  if (given && Object.keys(given).length > 0) return given;
  const vus = Number(options['vus'] ?? 1);
  if (options['iterations'] !== undefined) return { default: { executor: 'shared-iterations', vus, iterations: Number(options['iterations']) } };
  if (options['duration'] !== undefined) return { default: { executor: 'constant-vus', vus, duration: String(options['duration']) } };
  return { default: { executor: 'shared-iterations', vus: 1, iterations: 1 } };
}

/**
 * Run a k6 script without k6: each VU in a worker thread, HTTP done here with undici, k6's executors
 * (shared-iterations, constant-vus, constant-arrival-rate) and threshold semantics. Result engine: `k6-script`.
 */
export async function runK6Script(opts: K6ScriptRunOptions): Promise<LoadResult> {
  const env = { ...(opts.env ?? {}) };
  if (opts.gatewayUrl !== undefined) {
    assertLoadTarget(opts.gatewayUrl, opts.allowRemote);
    env['GATEWAY'] = opts.gatewayUrl;
  }
  let code: string;
  try {
    code = await bundleK6Script(opts.script);
  } catch (err) {
    throw new UserError(err instanceof Error ? err.message : String(err));
  }
  // __ENV is the same object for every VU: define it before the bundle's init code runs.
  code = `globalThis.__ENV = ${JSON.stringify(env)};\n${code}`;
  const options = await readOptions(code, opts.script);
  const scenarios = scenariosOf(options);
  for (const [name, s] of Object.entries(scenarios)) {
    if (!['shared-iterations', 'constant-vus', 'constant-arrival-rate'].includes(s.executor)) {
      throw userError(opts.script, `scenario ${name}: executor ${s.executor} is not supported by the built-in k6 runtime`);
    }
  }

  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const records: RequestRecord[] = [];
  const metrics = new Map<string, MetricSeries>();
  const add = (metric: string, type: MetricSeries['type'], value: number, tags?: Record<string, string>): void => {
    opts.onSample?.({ metric, type, value, tags: tags ?? {}, timeMs: Date.now() });
    const m = metrics.get(metric);
    if (m) m.values.push(value);
    else metrics.set(metric, { type, values: [value] });
  };
  const onHttp = async (call: HttpCall): Promise<HttpReply> => {
    const startMs = Date.now();
    const t0 = performance.now();
    const tags: Record<string, string> = { ...call.tags, method: call.method, url: call.url, name: call.tags['name'] ?? call.url };
    if (!/^https?:/.test(call.url)) {
      return { status: 0, body: '', headers: {}, durationMs: 0, waitingMs: 0, error: `unsupported URL: ${call.url}`, errorCode: 1020 };
    }
    try {
      assertLoadTarget(call.url, opts.allowRemote);
    } catch (err) {
      return { status: 0, body: '', headers: {}, durationMs: 0, waitingMs: 0, error: (err as Error).message, errorCode: 1110 };
    }
    let waitingMs = 0;
    let reply: HttpReply;
    const record: RequestRecord = { index: 0, startMs, latencyMs: 0, bytes: 0, tags };
    try {
      const res = await undiciRequest(call.url, {
        method: call.method as 'GET',
        headers: call.headers,
        body: call.body ?? null,
        dispatcher: agent,
        signal: AbortSignal.timeout(call.timeoutMs),
      });
      waitingMs = performance.now() - t0;
      const body = await res.body.text();
      const durationMs = performance.now() - t0;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      reply = { status: res.statusCode, body, headers, durationMs, waitingMs };
      record.status = res.statusCode;
      record.ttftMs = waitingMs;
      record.bytes = Buffer.byteLength(body);
      if (res.statusCode < 200 || res.statusCode >= 300) record.errorBody = body.slice(0, 512);
      else if ((headers['content-type'] ?? '').includes('text/event-stream')) {
        // as the builtin engine: a 2xx stream carrying an error event (vLLM's engine died mid-stream) failed
        const scan = new SseErrorScanner();
        scan.push(Buffer.from(body));
        scan.end();
        if (scan.message !== undefined) {
          record.error = 'stream-error';
          record.errorMessage = scan.message;
          if (scan.payload !== undefined) record.errorBody = scan.payload;
        }
      }
      const id = /"id"\s*:\s*"([^"]+)"/.exec(body.slice(0, 4096))?.[1];
      if (id) record.responseId = id;
    } catch (err) {
      const timedOut = (err as { name?: string }).name === 'TimeoutError';
      const kind = classifyError(err, timedOut);
      const durationMs = performance.now() - t0;
      reply = { status: 0, body: '', headers: {}, durationMs, waitingMs: 0, error: timedOut ? 'request timeout' : (err as Error).message, errorCode: K6_ERROR_CODES[kind] ?? 1000 };
      record.error = kind;
      record.errorMessage = reply.error ?? kind;
    }
    record.latencyMs = reply.durationMs;
    tags['status'] = String(reply.status);
    const expected = reply.status >= 200 && reply.status < 400;
    tags['expected_response'] = String(expected);
    records.push(record);
    if (reply.error) Object.assign(tags, { error: reply.error, error_code: String(reply.errorCode ?? 1000) });
    add('http_reqs', 'counter', 1, tags);
    add('http_req_duration', 'trend', reply.durationMs, tags);
    add('http_req_waiting', 'trend', reply.waitingMs, tags);
    add('http_req_failed', 'rate', expected ? 0 : 1, tags);
    return reply;
  };

  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const workers: VuWorker[] = [];
  let dropped = 0;
  const hardBound = opts.maxDurationMs ?? 30 * 60_000;
  const deadline = t0 + hardBound;
  const seg = opts.executionSegment ?? { index: 0, count: 1 };
  if (!(Number.isInteger(seg.count) && seg.count >= 1 && Number.isInteger(seg.index) && seg.index >= 0 && seg.index < seg.count)) {
    throw userError(opts.script, `execution segment ${seg.index}/${seg.count}: not an equal segment of 0..1`);
  }
  /** This segment's share of `total` under round-robin striping. */
  const share = (total: number): number => Math.max(0, Math.ceil((total - seg.index) / seg.count));
  const runIteration = async (w: VuWorker, scenario: string, scenarioEnv: Record<string, string>, iterationInTest?: number): Promise<void> => {
    let samples: Sample[];
    try {
      samples = await w.iterate(scenario, scenarioEnv, iterationInTest);
    } catch (err) {
      throw userError(opts.script, err instanceof Error ? err.message : String(err));
    }
    for (const s of samples) add(s.metric, s.type, s.value, { scenario, ...(s.tags ?? {}) });
  };
  const spawn = (n: number): VuWorker[] => Array.from({ length: n }, () => {
    const w = new VuWorker(code, workers.length + 1, onHttp);
    workers.push(w);
    return w;
  });

  try {
    await Promise.all(
      Object.entries(scenarios).map(async ([name, s]) => {
        const scenarioEnv = s.env ?? {};
        if (s.executor === 'shared-iterations') {
          const total = share(s.iterations ?? 1);
          const maxMs = parseDurationMs(s.maxDuration ?? '10m') ?? 600_000;
          const end = Math.min(deadline, performance.now() + maxMs);
          let next = 0;
          await Promise.all(spawn(Math.min(Math.max(1, share(s.vus ?? 1)), total)).map(async (w) => {
            while (next < total && performance.now() < end) {
              const local = next++;
              await runIteration(w, name, scenarioEnv, local * seg.count + seg.index);
            }
          }));
        } else if (s.executor === 'constant-vus') {
          const end = Math.min(deadline, performance.now() + (parseDurationMs(s.duration) ?? 0));
          let next = 0;
          await Promise.all(spawn(Math.max(1, share(s.vus ?? 1))).map(async (w) => {
            for (let guard = 0; performance.now() < end && guard < 10_000_000; guard++) await runIteration(w, name, scenarioEnv, next++ * seg.count + seg.index);
          }));
        } else {
          const perMs = (s.rate ?? 1) / (parseDurationMs(s.timeUnit ?? '1s') ?? 1000);
          const arrivals = Math.floor(perMs * (parseDurationMs(s.duration) ?? 0));
          const free = spawn(Math.max(1, share(s.maxVUs ?? s.preAllocatedVUs ?? 1)));
          const running = new Set<Promise<void>>();
          const start = performance.now();
          for (let k = seg.index; k < arrivals && performance.now() < deadline; k += seg.count) {
            const wait = k / perMs - (performance.now() - start);
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            const w = free.pop();
            if (!w) {
              dropped++;
              continue;
            }
            const p: Promise<void> = runIteration(w, name, scenarioEnv, k).finally(() => {
              free.push(w);
              running.delete(p);
            });
            running.add(p);
          }
          await Promise.all(running);
        }
      }),
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await agent.destroy();
  }
  const durationMs = performance.now() - t0;
  if (dropped > 0) add('dropped_iterations', 'counter', dropped, {});
  records.sort((a, b) => a.startMs - b.startMs);
  records.forEach((r, i) => (r.index = i));
  const thresholds = (() => {
    try {
      return evaluateThresholds((options['thresholds'] ?? {}) as Record<string, unknown>, metrics, durationMs / 1000);
    } catch (err) {
      throw userError(opts.script, err instanceof Error ? err.message : String(err));
    }
  })();
  return {
    engine: 'k6-script',
    startedAt,
    records,
    summary: summarize(records, { durationMs, ...(dropped > 0 ? { dropped } : {}) }),
    thresholds,
  };
}

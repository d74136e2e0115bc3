import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FromWorker, ToWorker } from './protocol.ts';
import { vu } from './shims/state.ts';

interface ScriptModule {
  options?: unknown;
  default?: (data?: unknown) => void;
  setup?: unknown;
  teardown?: unknown;
  handleSummary?: unknown;
}

interface VuData {
  mode: 'options' | 'vu';
  vuId: number;
  port?: MessagePort;
  flag?: SharedArrayBuffer;
}

const g = globalThis as Record<string, unknown>;

function post(msg: FromWorker): void {
  parentPort?.postMessage(msg);
}

/**
 * Runs inside the bundle, in a worker: `init` evaluates the script's init context (done by the bundle's
 * import before this is called), then either reports `options` or serves iterations for one VU.
 */
export function serve(load: () => ScriptModule): void {
  const data = workerData as VuData;
  g['__VU'] = data.mode === 'vu' ? data.vuId : 0;
  g['__ITER'] = 0;
  let script: ScriptModule;
  try {
    script = load();
  } catch (err) {
    post({ kind: 'fatal', error: `init: ${err instanceof Error ? err.message : String(err)}` });
    return;
  }
  for (const name of ['setup', 'teardown', 'handleSummary'] as const) {
    if (script[name] !== undefined) {
      post({ kind: 'fatal', error: `the built-in k6 runtime does not support export ${name}()` });
      return;
    }
  }
  if (data.mode === 'options') {
    post({ kind: 'options', options: JSON.parse(JSON.stringify(script.options ?? {})) as unknown });
    return;
  }
  vu.port = data.port;
  vu.flag = data.flag ? new Int32Array(data.flag) : undefined;
  vu.init = false;
  const run = script.default;
  if (typeof run !== 'function') {
    post({ kind: 'fatal', error: 'the script has no default function' });
    return;
  }
  parentPort?.on('message', (msg: ToWorker) => {
    if (msg.kind === 'exit') {
      process.exit(0);
    }
    vu.scenario = msg.scenario;
    vu.iterationInTest = msg.iterationInTest ?? msg.iter;
    vu.samples = [];
    g['__ITER'] = msg.iter;
    const t0 = performance.now();
    let error: string | undefined;
    try {
      run();
    } catch (err) {
      error = err instanceof Error ? err.message : String(err);
    }
    vu.samples.push({ metric: 'iteration_duration', type: 'trend', value: performance.now() - t0 });
    vu.samples.push({ metric: 'iterations', type: 'counter', value: 1 });
    post(error === undefined ? { kind: 'done', samples: vu.samples } : { kind: 'done', samples: vu.samples, error });
  });
  post({ kind: 'ready' });
}

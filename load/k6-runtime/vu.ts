import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { k6ConsoleLine } from './console-format.ts';
import { idle, installTrackedTimers } from './event-loop.ts';
import type { FromWorker, InitInfo, ScriptError, ToWorker } from './protocol.ts';
import { resetVuJar } from './shims/http.ts';
import { flushSamples, vu } from './shims/state.ts';

type Fn = (arg?: unknown) => unknown;
type ScriptModule = Record<string, unknown>;

interface VuData {
  mode: 'init' | 'vu';
  vuId: number;
  env: Record<string, string>;
  scriptDir: string;
  runtimeDir: string;
  port?: MessagePort;
  flag?: SharedArrayBuffer;
  wsPort?: MessagePort;
  wsFlag?: SharedArrayBuffer;
}

const g = globalThis as Record<string, unknown>;

function post(msg: FromWorker): void {
  parentPort?.postMessage(msg);
}

/**
 * The script frame an error came from, from the source-mapped stack: `at fn (file:///abs/script.js:L:C)`, as
 * k6 shows it (its frames also carry the bytecode offset, which has no equivalent here).
 */
export function scriptFrame(stack: string | undefined, runtimeDir: string): string | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const m = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/.exec(line);
    if (!m || m[2] === undefined) continue;
    const file = m[2].replace(/^file:\/\//, '');
    if (!path.isAbsolute(file) || file.startsWith(runtimeDir) || file.includes('node_modules') || file.startsWith('node:')) continue;
    // esbuild names a module's default export `<file>_default`; k6 calls it `default`
    const fn = (m[1] || 'file').replace(/^Object\./, '').replace(/^[\w$]+_default$/, 'default');
    return `at ${fn} (file://${file}:${m[3]}:${m[4]})`;
  }
  return undefined;
}

function toScriptError(err: unknown, runtimeDir: string): ScriptError {
  if (err instanceof Error) {
    const out: ScriptError = { message: err.message ? `${err.name === 'Error' ? 'Error' : err.name}: ${err.message}` : err.name };
    const at = scriptFrame(err.stack, runtimeDir);
    if (at) out.at = at;
    if ((err as { k6Abort?: boolean }).k6Abort) out.abort = true;
    if ((err as { k6Unsupported?: boolean }).k6Unsupported) out.message = err.message;
    return out;
  }
  return { message: typeof err === 'string' ? err : format('%o', err) };
}

function routeConsole(): void {
  const send =
    (level: 'info' | 'warn' | 'error' | 'debug') =>
    (...args: unknown[]) =>
      post({ kind: 'log', level, text: k6ConsoleLine(args) });
  console.log = send('info');
  console.info = send('info');
  console.warn = send('warn');
  console.error = send('error');
  // k6 logs at info level unless --verbose: console.debug prints nothing by default (k6 v2.2.0 cmd/root.go)
  console.debug = () => {};
}

/** k6's open(): init context only, path relative to the script's directory; 'b' gives an ArrayBuffer. */
function makeOpen(scriptDir: string) {
  return (file: string, mode?: string): string | ArrayBuffer => {
    if (!vu.init) throw new Error('The "open()" function is only available in the init stage (i.e. the global scope)');
    const abs = path.isAbsolute(file) ? file : path.resolve(scriptDir, file);
    const data = readFileSync(abs);
    if (mode === 'b') return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
    return data.toString('utf8');
  };
}

/**
 * Runs inside the bundle, in a worker: evaluates the script's init context, then reports what the
 * scheduler needs (mode init) or serves iterations and setup/teardown/handleSummary calls for one VU.
 */
export function serve(load: () => ScriptModule): void {
  const data = workerData as VuData;
  routeConsole();
  installTrackedTimers(g);
  g['__VU'] = data.vuId;
  g['__ITER'] = 0;
  g['__ENV'] = { ...data.env };
  g['open'] = makeOpen(data.scriptDir);
  vu.id = data.vuId;
  vu.scriptDir = data.scriptDir;
  let script: ScriptModule;
  try {
    script = load();
    vu.options = JSON.parse(JSON.stringify(script['options'] ?? {})) as Record<string, unknown>;
  } catch (err) {
    post({ kind: 'fatal', error: toScriptError(err, data.runtimeDir) });
    return;
  }
  if (data.mode === 'init') {
    const info: InitInfo = {
      options: vu.options,
      exports: Object.keys(script).filter((k) => typeof script[k] === 'function'),
      metrics: vu.declared,
    };
    post({ kind: 'init', info });
    return;
  }
  vu.port = data.port;
  vu.flag = data.flag ? new Int32Array(data.flag) : undefined;
  vu.wsPort = data.wsPort;
  vu.wsFlag = data.wsFlag ? new Int32Array(data.wsFlag) : undefined;
  vu.init = false;
  const iterInScenario = new Map<string, number>();
  parentPort?.on('message', (msg: ToWorker) => {
    void handle(msg);
  });

  async function handle(msg: ToWorker): Promise<void> {
    vu.samples = [];
    vu.group = '';
    let error: ScriptError | undefined;
    let result: string | undefined;
    if (msg.kind === 'iterate') {
      const ctx = msg.ctx;
      vu.ctx = ctx;
      vu.testStartMs = ctx.testStartMs;
      vu.userTags = { ...ctx.tags };
      const n = iterInScenario.get(ctx.scenario) ?? 0;
      iterInScenario.set(ctx.scenario, n + 1);
      vu.iterationInScenario = n;
      g['__ITER'] = n;
      g['__ENV'] = { ...data.env, ...ctx.env };
      resetVuJar();
      const t0 = performance.now();
      try {
        const fn = script[ctx.exec] as Fn;
        const r = fn(msg.data === undefined ? undefined : JSON.parse(msg.data));
        flushSamples();
        if (r instanceof Promise) await r;
        flushSamples();
        await idle();
      } catch (err) {
        error = toScriptError(err, data.runtimeDir);
      }
      vu.iterationInInstance++;
      const tags = { ...vu.userTags, scenario: ctx.scenario, group: '' };
      vu.samples.push({ metric: 'iteration_duration', type: 'trend', value: performance.now() - t0, tags, time: true });
      vu.samples.push({ metric: 'iterations', type: 'counter', value: 1, tags });
    } else {
      vu.ctx = undefined;
      vu.group = msg.fn === 'handleSummary' ? '' : `::${msg.fn}`;
      vu.userTags = {};
      resetVuJar();
      try {
        const fn = script[msg.fn] as Fn;
        let r = fn(msg.arg === undefined ? undefined : JSON.parse(msg.arg));
        if (r instanceof Promise) r = await r;
        await idle();
        if (r !== undefined) result = JSON.stringify(r);
      } catch (err) {
        error = toScriptError(err, data.runtimeDir);
      }
    }
    if (vu.unsupported !== undefined && error === undefined) error = { message: vu.unsupported };
    post(
      error === undefined
        ? { kind: 'done', samples: vu.samples, ...(result !== undefined ? { result } : {}) }
        : { kind: 'done', samples: vu.samples, error },
    );
  }
  post({ kind: 'ready' });
}

import { MessageChannel, Worker } from 'node:worker_threads';
import type {
  FromWorker,
  HttpCall,
  HttpReply,
  InitInfo,
  IterationContext,
  Sample,
  ScriptError,
  ToWorker,
  WsCommand,
  WsEvent,
} from './protocol.ts';

export interface WorkerSetup {
  bundleFile: string;
  env: Record<string, string>;
  scriptDir: string;
  runtimeDir: string;
  onLog: (level: string, text: string, vuId: number) => void;
  /** Samples a VU sends before its iteration ends (set once the run's metric store exists). */
  onSamples?: (samples: Sample[]) => void;
}

/** Source maps on before the bundle loads, so error stacks point at the script's own lines. */
function bootstrap(file: string): string {
  return `process.setSourceMapsEnabled(true); require(${JSON.stringify(file)});`;
}

export interface CallResult {
  samples: Sample[];
  error?: ScriptError;
  result?: string;
  /** The worker was terminated during the call (k6: an interrupted iteration). */
  interrupted?: boolean;
}

/** Evaluate the init context once (VU 0) and report options, exports and declared metrics. */
export async function readInit(setup: WorkerSetup): Promise<InitInfo> {
  const worker = new Worker(bootstrap(setup.bundleFile), {
    eval: true,
    workerData: { mode: 'init', vuId: 0, env: setup.env, scriptDir: setup.scriptDir, runtimeDir: setup.runtimeDir },
  });
  try {
    for (;;) {
      const msg = await new Promise<FromWorker>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      if (msg.kind === 'log') setup.onLog(msg.level, msg.text, 0);
      else if (msg.kind === 'fatal') throw new InitError(msg.error);
      else if (msg.kind === 'init') return msg.info;
      else throw new Error(`unexpected message ${msg.kind} from the init context`);
    }
  } finally {
    await worker.terminate();
  }
}

export class InitError extends Error {
  constructor(readonly scriptError: ScriptError) {
    super(scriptError.at ? `${scriptError.message} ${scriptError.at}` : scriptError.message);
  }
}

/** One VU: a worker running the bundle, its HTTP calls answered on the main thread. */
export class Vu {
  private readonly worker: Worker;
  private pending: ((msg: CallResult) => void) | undefined;
  readonly ready: Promise<void>;
  busy = false;
  dead = false;

  constructor(
    setup: WorkerSetup,
    readonly id: number,
    onHttp: (call: HttpCall) => Promise<HttpReply>,
    onWs?: (cmd: WsCommand, reply: (e: WsEvent) => void) => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    const flagBuf = new SharedArrayBuffer(4);
    const flag = new Int32Array(flagBuf);
    port1.on('message', (call: HttpCall) => {
      void onHttp(call).then((reply) => {
        if (this.dead) return;
        port1.postMessage(reply);
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      });
    });
    port1.unref();
    // k6/ws: its own channel, so socket events never mix with HTTP replies; wsFlag[0] counts the events posted
    const ws = new MessageChannel();
    const wsFlagBuf = new SharedArrayBuffer(4);
    const wsFlag = new Int32Array(wsFlagBuf);
    ws.port1.on('message', (cmd: WsCommand) =>
      onWs?.(cmd, (e) => {
        if (this.dead) return;
        ws.port1.postMessage(e);
        Atomics.add(wsFlag, 0, 1);
        Atomics.notify(wsFlag, 0);
      }),
    );
    ws.port1.unref();
    this.worker = new Worker(bootstrap(setup.bundleFile), {
      eval: true,
      workerData: {
        mode: 'vu',
        vuId: id,
        env: setup.env,
        scriptDir: setup.scriptDir,
        runtimeDir: setup.runtimeDir,
        port: port2,
        flag: flagBuf,
        wsPort: ws.port2,
        wsFlag: wsFlagBuf,
      },
      transferList: [port2, ws.port2],
    });
    let readyResolve: () => void = () => undefined;
    let readyReject: (e: Error) => void = () => undefined;
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => undefined);
    this.worker.on('error', (err) => {
      readyReject(err);
      this.finish({ samples: [], error: { message: err.message } });
    });
    this.worker.on('exit', () => {
      this.dead = true;
      readyReject(new Error('VU exited'));
      this.finish({ samples: [], interrupted: true });
    });
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.kind === 'log') setup.onLog(msg.level, msg.text, id);
      else if (msg.kind === 'samples') setup.onSamples?.(msg.samples);
      else if (msg.kind === 'ready') readyResolve();
      else if (msg.kind === 'fatal') {
        readyReject(new InitError(msg.error));
        this.finish({ samples: [], error: msg.error });
      } else if (msg.kind === 'done')
        this.finish({
          samples: msg.samples,
          ...(msg.error ? { error: msg.error } : {}),
          ...(msg.result !== undefined ? { result: msg.result } : {}),
        });
    });
  }

  private finish(r: CallResult): void {
    const p = this.pending;
    this.pending = undefined;
    this.busy = false;
    p?.(r);
  }

  private send(m: ToWorker): Promise<CallResult> {
    if (this.dead) return Promise.resolve({ samples: [], interrupted: true });
    this.busy = true;
    return new Promise((resolve) => {
      this.pending = resolve;
      this.worker.postMessage(m);
    });
  }

  iterate(ctx: IterationContext, data: string | undefined): Promise<CallResult> {
    return this.send({ kind: 'iterate', ctx, data });
  }

  call(fn: 'setup' | 'teardown' | 'handleSummary', arg: string | undefined): Promise<CallResult> {
    return this.send({ kind: 'call', fn, arg });
  }

  /** Stop the VU now; a call in progress ends as interrupted. */
  async kill(): Promise<void> {
    if (this.dead) return;
    this.dead = true;
    await this.worker.terminate();
  }
}

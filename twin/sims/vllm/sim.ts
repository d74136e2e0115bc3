/**
 * `startVllmSim(options)`: one vLLM simulator (HTTP server + engine + KV connector + faults), in-process.
 * main.ts wraps it as the program the twin runs for `vllm/vllm-openai` images.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseVllmArgs, type VllmArgs } from './args.ts';
import { Engine } from './engine.ts';
import { Faults, parseFaultJson } from './faults.ts';
import { createKvConnector, type KvConnector } from './kv/connector.ts';
import { createLogger, defaultSink, type LogSink } from './log.ts';
import { createSimMetrics } from './metrics.ts';
import { createRequestHandler, type SimState } from './server.ts';
import { readSettings, type Env } from './settings.ts';
import { shouldLogStats, statsLine, type StatsSample } from './stats-log.ts';

export interface VllmSimOptions {
  /** The container args, e.g. ['serve', 'Qwen/Qwen3-Coder-30B-A3B-Instruct', '--port=0', '--max-model-len=2048']. */
  args: readonly string[];
  /** VLLM_SIM_*, POD_*, PD_TWIN_MOUNTS, PD_TWIN_ROOTFS. Default: process.env. */
  env?: Env;
  /** Overrides --host (tests use 127.0.0.1). */
  host?: string;
  /** Where log lines go. Default: stdout (INFO) / stderr (WARNING, ERROR). */
  log?: LogSink;
  /** The engine died (IndexError fault). main.ts exits 1; in-process the simulator stays dead (/health 503). */
  onFatal?: (cause: string) => void;
}

export interface VllmSim {
  url: string;
  port: number;
  /** P2P: the KV receiver's port. */
  kvPort?: number;
  /** FS: the host directory KV blocks go to. */
  kvStorageDir?: string;
  args: VllmArgs;
  faults: Faults;
  state(): SimState;
  /** Resolves when the simulator is healthy (after VLLM_SIM_STARTUP_MS). */
  ready: Promise<void>;
  /** Resolves with the cause when the engine dies. */
  died: Promise<string>;
  stop(): Promise<void>;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startVllmSim(o: VllmSimOptions): Promise<VllmSim> {
  const env = o.env ?? process.env;
  const args = parseVllmArgs(o.args);
  const settings = readSettings(env);
  const faults = new Faults(settings.faultsJson ? parseFaultJson(settings.faultsJson) : {});
  const log = createLogger(o.log ?? defaultSink);
  const host = o.host ?? args.host;
  const maxNumSeqs = args.maxNumSeqs ?? settings.maxNumSeqs;
  logEngineInit(log, args, maxNumSeqs);

  let state: SimState = 'starting';
  let resolveDied: (cause: string) => void = () => {};
  const died = new Promise<string>((r) => (resolveDied = r));
  const kv = args.kvTransfer
    ? await startKvConnector(args, args.kvTransfer, { host, env, settings, log }, (requestId) => {
        if (faults.crashOnAbortedKv() && engine.wasAborted(requestId)) engine.die(`KV block arrived for aborted request ${requestId}`);
      })
    : undefined;
  const engine: Engine = new Engine({
    settings,
    maxNumSeqs,
    faults,
    log,
    kv,
    onDeath: (cause) => {
      state = 'dead';
      resolveDied(cause);
      o.onFatal?.(cause);
    },
  });
  const metrics = createSimMetrics(args.servedModelNames[0] ?? args.model, engine);
  engine.metrics = metrics;

  const hung = new Set<http.ServerResponse>();
  const server = http.createServer(
    createRequestHandler({
      state: () => state,
      engine,
      faults,
      metrics,
      log,
      servedModelNames: args.servedModelNames,
      model: args.model,
      maxModelLen: args.maxModelLen,
      defaultCompletionTokens: settings.defaultCompletionTokens,
      accessLog: args.accessLog,
      randomizeRequestIds: settings.randomizeRequestIds,
      requestIdHeaders: args.given['enable-request-id-headers'] === true,
      podName: env['POD_NAME'],
      createdAt: Math.floor(Date.now() / 1000),
      hung,
    }),
  );
  server.keepAliveTimeout = 5_000;
  try {
    await listen(server, args.port, host);
  } catch (e) {
    await kv?.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  log.api('INFO', 'api_server.py:1880', `Starting vLLM API server 0 on http://${host}:${port}`);
  log.uvicorn(`Started server process [1]`);
  log.uvicorn('Waiting for application startup.');

  let startupTimer: NodeJS.Timeout | undefined;
  const ready = new Promise<void>((resolve) => {
    startupTimer = setTimeout(() => {
      if (state === 'starting') {
        state = 'ready';
        log.uvicorn('Application startup complete.');
      }
      resolve();
    }, settings.startupMs);
  });
  const statsTimer = startStatsLog(engine, log, settings.statsIntervalMs, () => state === 'ready');

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      clearTimeout(startupTimer);
      clearInterval(statsTimer);
      if (state !== 'dead') state = 'stopping';
      log.uvicorn('Shutting down');
      engine.abortAll();
      for (const res of hung) res.destroy();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await Promise.all([closed, kv?.close()]);
      log.uvicorn('Waiting for application shutdown.');
      log.uvicorn('Application shutdown complete.');
      log.uvicorn('Finished server process [1]');
    })());

  return {
    url: `http://${urlHost(host)}:${port}`,
    port,
    kvPort: kv?.port,
    kvStorageDir: kv?.storageDir,
    args,
    faults,
    state: () => state,
    ready,
    died,
    stop,
  };
}

type Logger = ReturnType<typeof createLogger>;

/** vLLM 0.15's first lines: the version, the non-default args, the engine config. */
function logEngineInit(log: Logger, args: VllmArgs, maxNumSeqs: number): void {
  log.api('INFO', 'api_server.py:1839', 'vLLM API server version 0.15.0');
  log.api('INFO', 'utils.py:233', `non-default args: ${JSON.stringify({ model_tag: args.model, ...args.given })}`);
  log.engine(
    'INFO',
    'core.py:93',
    `Initializing a V1 LLM engine (v0.15.0) with config: model='${args.model}', served_model_name=${args.servedModelNames.join(',')}, ` +
      `max_seq_len=${args.maxModelLen}, max_num_seqs=${maxNumSeqs}, kv_transfer_config=${args.kvTransfer ? JSON.stringify(args.kvTransfer) : 'None'}`,
  );
}

/** The KV connector of `--kv-transfer-config`, and the line its vLLM class logs when it starts. */
async function startKvConnector(
  args: VllmArgs,
  kt: NonNullable<VllmArgs['kvTransfer']>,
  at: { host: string; env: Env; settings: ReturnType<typeof readSettings>; log: Logger },
  onBlockArrived: (requestId: string) => void,
): Promise<KvConnector> {
  const { host, env, settings, log } = at;
  const kv = await createKvConnector({
    config: kt,
    listenHost: host,
    httpHost: host,
    mountsJson: env['PD_TWIN_MOUNTS'],
    ...(env['PD_TWIN_ROOTFS'] ? { rootfs: env['PD_TWIN_ROOTFS'] } : {}),
    sendTimeoutMs: settings.kvSendTimeoutMs,
    bytesPerToken: settings.kvBytesPerToken,
    log,
    onBlockArrived,
  });
  if (kt.connector === 'P2pNcclConnector') {
    log.engine(
      'INFO',
      'p2p_nccl_engine.py:137',
      `P2pNcclEngine init, rank:${kt.rank}, local_rank:0, http_address:${host}:${args.port}, zmq_address:${kt.ip}:${kv.port ?? kt.port}, ` +
        `kv_role:${kt.role}, send_type:PUT_ASYNC, buffer_size_threshold:1000000000.00`,
    );
  } else if (kt.connector === 'ExampleConnector') {
    log.engine('INFO', 'example_connector.py:120', `Shared storage path is ${kt.sharedStoragePath ?? '/tmp'}`);
  } else {
    log.engine(
      'INFO',
      'factory.py:64',
      `Creating v1 connector with name: ${kt.connectorName} and engine_id: ${kt.engineId ?? 'None'} (twin: an approximation, see twin/sims/vllm/README.md)`,
    );
  }
  return kv;
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** vLLM's periodic stats line (loggers.py), while the server is ready and there is something to say. */
function startStatsLog(engine: Engine, log: Logger, intervalMs: number, ready: () => boolean): NodeJS.Timeout | undefined {
  if (intervalMs <= 0) return undefined;
  let last: StatsSample = { atMs: Date.now(), promptTokens: 0, generationTokens: 0 };
  return setInterval(() => {
    const now: StatsSample = { atMs: Date.now(), promptTokens: engine.promptTokensTotal, generationTokens: engine.generationTokensTotal };
    if (ready() && shouldLogStats(last, now, engine.running(), engine.waiting())) {
      log.api('INFO', 'loggers.py:123', statsLine(last, now, engine.running(), engine.waiting(), engine.kvCacheUsage()));
    }
    last = now;
  }, intervalMs).unref();
}

/**
 * The twin's EPP process (image ghcr.io/llm-d/llm-d-inference-scheduler:*). Reads the real EPP flags, loads the
 * EndpointPickerConfig once, watches the InferencePool and its pods (or --static-endpoints), scrapes endpoint
 * metrics and serves picks. A bad config logs one JSON error line and exits 1, so the pod crash-loops.
 */
import { readFileSync } from 'node:fs';
import { parseEppArgs, type EppArgs } from './args.ts';
import { parseEppConfig } from './config.ts';
import { Datastore } from './datastore.ts';
import { configErrorLine, epochSeconds, line, logModeFor, parsedConfigLine, profileLoadedLine } from './log.ts';
import { createEppMetrics } from './metrics.ts';
import { Scraper } from './scrape.ts';
import { buildScheduler, type Scheduler } from './scheduler.ts';
import { startEppServers } from './server.ts';
import { PickService } from './service.ts';
import { parseStaticEndpoints } from './static-source.ts';

const write = (l: string) => void process.stdout.write(`${l}\n`);
const log = (level: 'info' | 'error', msg: string, fields?: Record<string, unknown>) => write(line(level, epochSeconds(), msg, fields));

function fail(message: string): never {
  write(configErrorLine(message, epochSeconds()));
  process.exit(1);
}

function loadScheduler(args: EppArgs): Scheduler {
  // gateway-api-inference-extension v1.2.0 cmd/epp/runner/runner.go: both flags set is refused, neither leaves
  // no scheduler config (llm-d v0.4.0 sets none in code)
  if (args.configText !== undefined && args.configFile !== undefined) {
    fail('both the "configText" and "configFile" flags can not be set at the same time');
  }
  if (args.configText === undefined && args.configFile === undefined)
    fail('scheduler config must be set either by config api or through code');
  let text = '';
  if (args.configText !== undefined) text = args.configText;
  else if (args.configFile !== undefined) {
    try {
      text = readFileSync(args.configFile, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      fail(
        `failed to load config from a file '${args.configFile}' - open ${args.configFile}: ${e.code === 'ENOENT' ? 'no such file or directory' : (e.code ?? e.message)}`,
      );
    }
  }
  try {
    return buildScheduler(parseEppConfig(text));
  } catch (err) {
    fail((err as Error).message);
  }
}

async function main(): Promise<void> {
  let args: EppArgs;
  try {
    args = parseEppArgs(process.argv.slice(2));
  } catch (err) {
    fail((err as Error).message);
  }
  if (!args.staticEndpoints && !args.poolName) fail('--pool-name is required');
  const scheduler = loadScheduler(args);
  const logMode = logModeFor(args.image, args.verbosity);
  // the plugin factories log while the config loads (e.g. the active-request-scorer's timeout), then the GAIE
  // runner's start line (every image); the seed's instrumented build also writes its own profile line
  for (const w of scheduler.warnings) log(w.level, w.msg, w.fields);
  write(parsedConfigLine(scheduler));
  if (logMode.instrumented) write(profileLoadedLine(scheduler, epochSeconds()));

  const datastore = new Datastore(scheduler.requestTimeoutMs);
  const metrics = createEppMetrics(args.poolName || 'static', datastore);
  const service = new PickService({ scheduler, datastore, rng: Math.random, log: write, metrics, logMode });

  const scraper = new Scraper(datastore, Number(process.env.EPP_SCRAPE_INTERVAL_MS) || 200, args.metricNames);
  scraper.start();

  const servers = await startEppServers({
    host: args.listenHost,
    grpcPort: args.grpcPort,
    healthPort: args.grpcHealthPort,
    metricsPort: args.metricsPort,
    service,
    datastore,
    metrics,
  }).catch((err: Error) => fail(`cannot listen: ${err.message}`));
  log('info', 'EPP servers listening', {
    host: args.listenHost,
    grpcPort: servers.ports.grpc,
    metricsPort: servers.ports.metrics,
  });
  servers.health.then(
    (port) => log('info', 'EPP health server listening', { host: args.listenHost, grpcHealthPort: port }),
    (err: Error) => {
      if (err.message !== 'closed') fail(`cannot listen: ${err.message}`);
    },
  );

  // the listeners first (the health port opens once the pool is synced), then the watch, whose client is slow to load
  let stopSource: () => Promise<void> = async () => {};
  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    // requests in flight finish first: GAIE v1.2.0 internal/runnable/grpc.go stops the ext-proc server with
    // GracefulStop, and the controller-runtime manager (cmd/epp/runner, no GracefulShutdownTimeout set) waits up to
    // its default 30s for it; the kubelet's SIGKILL after terminationGracePeriodSeconds bounds it too. Idle, the
    // EPP exits at once. EPP_DRAIN_MS overrides the 30s (tests).
    void servers.drain(Number(process.env.EPP_DRAIN_MS) || 30_000).then(() => {
      setTimeout(() => process.exit(0), 800).unref();
      void Promise.allSettled([servers.close(), scraper.stop(), stopSource()]).then(() => process.exit(0));
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  if (args.staticEndpoints) {
    try {
      datastore.setEndpoints(parseStaticEndpoints(args.staticEndpoints));
    } catch (err) {
      fail((err as Error).message);
    }
    datastore.synced = true;
  } else {
    const { startKubeSource } = await import('./kube-source.ts');
    if (stopping) return;
    const src = await startKubeSource(datastore, {
      poolName: args.poolName,
      poolNamespace: args.poolNamespace,
      poolGroup: args.poolGroup,
      log,
    });
    stopSource = src.stop;
  }
}

main().catch((err: Error) => fail(err.message));

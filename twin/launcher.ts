import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { LogRotation } from './runtime/cri-log.ts';
import { processStartTime, reapStale } from './runtime/pidfiles.ts';
import { DEFAULT_GATEWAY_PORT, DEFAULT_STATE_DIR, stateFile, type TwinState } from './state.ts';

/** The one door from the harness into the twin: start it, get a kubeconfig and a gateway URL, stop it. */
export interface TwinOptions {
  /** Where everything the twin writes goes (kubeconfig, pid files, logs, volumes). */
  stateDir?: string;
  /** API server port (0 = any free port). */
  port?: number;
  gatewayHost?: string;
  /** Gateway listener port; the seed port-forwards the gateway to 18080. 0 = any free port. */
  gatewayPort?: number;
  /**
   * First two octets of pod addresses (pods get PREFIX.x.y), default 127.0; `random` (RANDOM_IP_PREFIX) picks a free
   * one. A prefix another twin on this machine holds is refused (twin/runtime/ip-prefix.ts).
   */
  ipPrefix?: string;
  /** The kubelet's containerLogMaxSize / containerLogMaxFiles (twin/runtime/cri-log.ts). Default 10 MiB and 5. */
  containerLogRotation?: LogRotation;
}

export interface TwinHandle {
  apiUrl: string;
  kubeconfigPath: string;
  gatewayUrl: string;
  stateDir: string;
  /** The prefix of the pod addresses (the one picked, for `random`). */
  ipPrefix: string;
  /** Stops the gateway, operator, every pod process and the API server. Idempotent. */
  stop(): Promise<void>;
}

// The twin's state and process records, for `twin status` / `twin down` (twin/state.ts: no server code, so the
// CLI's status and down commands load only that).
export {
  DEFAULT_GATEWAY_PORT,
  DEFAULT_STATE_DIR,
  WORKERS_DIR,
  findOrphans,
  isSameProcessAlive,
  listPids,
  readTwinState,
  reapOrphanTwins,
  reapStale,
  twinProcesses,
  stateFile,
  twinStateDirs,
  waitExited,
  type OrphanReap,
  type PidRecord,
  type TwinState,
} from './state.ts';

/** `ipPrefix: RANDOM_IP_PREFIX`: the kubelet picks a free prefix (parallel twins, tests, Playwright workers). */
export { RANDOM_IP_PREFIX } from './runtime/ip-prefix.ts';

export async function startTwin(opts: TwinOptions = {}): Promise<TwinHandle> {
  const stateDir = resolve(opts.stateDir ?? DEFAULT_STATE_DIR);
  mkdirSync(stateDir, { recursive: true });
  reapStale(stateDir);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    while (stops.length) await stops.pop()!().catch(() => undefined);
    rmSync(stateFile(stateDir), { force: true });
  };
  try {
    // the servers load here, not with this module: `twin status` and `twin down` import it for the state alone
    const [{ startApiServer }, { startKubelet }, { startSchedulerInstallOperator }, { startGateway }] = await Promise.all([
      import('./apiserver/server.ts'),
      import('./kubelet/index.ts'),
      import('./operator/index.ts'),
      import('./gateway/index.ts'),
    ]);
    const api = await startApiServer({ stateDir, port: opts.port ?? 0 });
    stops.push(() => api.stop());
    const kubelet = await startKubelet({
      kubeconfigPath: api.kubeconfigPath,
      stateDir,
      ipPrefix: opts.ipPrefix ?? '127.0',
      ...(opts.containerLogRotation ? { containerLogRotation: opts.containerLogRotation } : {}),
    });
    stops.push(() => kubelet.stop());
    const operator = await startSchedulerInstallOperator({ kubeconfigPath: api.kubeconfigPath });
    stops.push(() => operator.stop());
    const gateway = await startGateway({
      kubeconfigPath: api.kubeconfigPath,
      host: opts.gatewayHost ?? '127.0.0.1',
      port: opts.gatewayPort ?? DEFAULT_GATEWAY_PORT,
    });
    stops.push(() => gateway.stop());
    const state: TwinState = {
      pid: process.pid,
      startTime: processStartTime(process.pid),
      apiUrl: api.url,
      gatewayUrl: gateway.url,
      kubeconfigPath: api.kubeconfigPath,
      stateDir,
      ipPrefix: kubelet.ipPrefix,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(stateFile(stateDir), JSON.stringify(state, null, 2));
    let stopping: Promise<void> | undefined;
    return {
      apiUrl: api.url,
      kubeconfigPath: api.kubeconfigPath,
      gatewayUrl: gateway.url,
      stateDir,
      ipPrefix: kubelet.ipPrefix,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

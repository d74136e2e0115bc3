import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startApiServer } from './apiserver/server.ts';
import { startGateway } from './gateway/index.ts';
import { startKubelet } from './kubelet/index.ts';
import { startSchedulerInstallOperator } from './operator/index.ts';
import { reapStale } from './runtime/pidfiles.ts';

/** The one door from the harness into the twin: start it, get a kubeconfig and a gateway URL, stop it. */
export interface TwinOptions {
  /** Where everything the twin writes goes (kubeconfig, pid files, logs, volumes). */
  stateDir?: string;
  /** API server port (0 = any free port). */
  port?: number;
  gatewayHost?: string;
  /** Gateway listener port; the seed port-forwards the gateway to 18080. 0 = any free port. */
  gatewayPort?: number;
  /** First two octets of pod addresses (pods get PREFIX.x.y); parallel twins need different prefixes. */
  ipPrefix?: string;
}

export interface TwinHandle {
  apiUrl: string;
  kubeconfigPath: string;
  gatewayUrl: string;
  stateDir: string;
  /** Stops the gateway, operator, every pod process and the API server. Idempotent. */
  stop(): Promise<void>;
}

/** Written while a twin runs, so `twin status` / `twin down` work from another process. */
export interface TwinState {
  pid: number;
  apiUrl: string;
  gatewayUrl: string;
  kubeconfigPath: string;
  stateDir: string;
  ipPrefix: string;
  startedAt: string;
}

export const DEFAULT_STATE_DIR = '.pd-harness/twin';
export const DEFAULT_GATEWAY_PORT = 18080;

export function stateFile(stateDir: string): string {
  return join(stateDir, 'twin.json');
}

export function readTwinState(stateDir: string): TwinState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(stateDir), 'utf8')) as TwinState;
  } catch {
    return undefined;
  }
}

export function randomIpPrefix(): string {
  return `127.${16 + Math.floor(Math.random() * 224)}`;
}

export async function startTwin(opts: TwinOptions = {}): Promise<TwinHandle> {
  const stateDir = resolve(opts.stateDir ?? DEFAULT_STATE_DIR);
  mkdirSync(stateDir, { recursive: true });
  reapStale(stateDir);
  const ipPrefix = opts.ipPrefix ?? '127.0';
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    while (stops.length) await stops.pop()!().catch(() => undefined);
    rmSync(stateFile(stateDir), { force: true });
  };
  try {
    const api = await startApiServer({ stateDir, port: opts.port ?? 0 });
    stops.push(() => api.stop());
    const kubelet = await startKubelet({ kubeconfigPath: api.kubeconfigPath, stateDir, ipPrefix });
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
      apiUrl: api.url,
      gatewayUrl: gateway.url,
      kubeconfigPath: api.kubeconfigPath,
      stateDir,
      ipPrefix,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(stateFile(stateDir), JSON.stringify(state, null, 2));
    let stopping: Promise<void> | undefined;
    return {
      apiUrl: api.url,
      kubeconfigPath: api.kubeconfigPath,
      gatewayUrl: gateway.url,
      stateDir,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

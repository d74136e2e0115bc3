/**
 * A twin's state on disk, readable from any process: its state file (`twin.json`), the state dirs of this
 * checkout's twins, and the reaping of processes whose twin is gone. No server code: `twin status`, `twin down`
 * and `twin kubeconfig` load this, not the twin (twin/launcher.ts re-exports it).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isSameProcessAlive, listPids, reapStale, waitExited, type PidRecord } from './runtime/pidfiles.ts';

/** Written while a twin runs, so `twin status` / `twin down` work from another process. */
export interface TwinState {
  pid: number;
  /** The twin process's start time (/proc/PID/stat field 22): tells a reused pid from the twin. */
  startTime?: number | null;
  apiUrl: string;
  gatewayUrl: string;
  kubeconfigPath: string;
  stateDir: string;
  ipPrefix: string;
  startedAt: string;
}

// The twin's process records, for `twin status` / `twin down` (the harness reaches the twin only through twin/launcher.ts).
export { findOrphans, isSameProcessAlive, listPids, reapStale, twinProcesses, waitExited, type PidRecord } from './runtime/pidfiles.ts';

export const DEFAULT_STATE_DIR = '.pd-harness/twin';
/** Where each Playwright worker's twin keeps its state (`w<index>-<pid>`), next to DEFAULT_STATE_DIR. */
export const WORKERS_DIR = '.pd-harness/workers';
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

/**
 * The state dirs of every twin started from this checkout: `stateDir` itself (the CLI twin's) and each
 * Playwright worker's under the `workers` dir next to it.
 */
export function twinStateDirs(stateDir: string = DEFAULT_STATE_DIR): string[] {
  const dirs = [resolve(stateDir)];
  const workers = resolve(dirname(resolve(stateDir)), 'workers');
  try {
    for (const name of readdirSync(workers)) if (/^w\d+-\d+$/.test(name)) dirs.push(join(workers, name));
  } catch {
    // no worker has run here yet
  }
  return dirs;
}

export interface OrphanReap {
  /** Processes killed because the twin that started them is gone (a SIGKILLed run, an OOM kill). */
  killed: PidRecord[];
  /** Killed but still not exited when the wait ended (should be empty). */
  stillAlive: PidRecord[];
  /** State dirs of dead worker twins that were removed. */
  removedDirs: string[];
}

/**
 * Reaps what dead twins left behind, in every twin state dir of this checkout: the recorded processes whose
 * owner is gone are killed (their whole process group) and waited for; a dead worker twin's state dir is
 * removed once nothing of it runs. A live twin's processes (its owner runs) are left alone.
 */
export async function reapOrphanTwins(stateDir: string = DEFAULT_STATE_DIR): Promise<OrphanReap> {
  const out: OrphanReap = { killed: [], stillAlive: [], removedDirs: [] };
  for (const dir of twinStateDirs(stateDir)) {
    out.killed.push(...reapStale(dir).killed);
    const isWorker = dir !== resolve(stateDir);
    if (isWorker && listPids(dir).length === 0 && !twinAlive(dir)) {
      rmSync(dir, { recursive: true, force: true });
      out.removedDirs.push(dir);
    }
  }
  out.stillAlive = await waitExited(out.killed);
  return out;
}

/** True while the twin whose state is in `dir` runs (by its state file, else by the pid in a worker dir's name). */
function twinAlive(dir: string): boolean {
  const state = readTwinState(dir);
  if (state) return isSameProcessAlive(state.pid, state.startTime ?? null);
  const pid = Number(/-(\d+)$/.exec(dir)?.[1]);
  return Number.isInteger(pid) && pid > 0 && isSameProcessAlive(pid, null);
}

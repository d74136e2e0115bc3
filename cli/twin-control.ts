import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import { textTable } from '../reporters/attach.ts';
import { reapOrphanTwins, readTwinState, startTwin, stateFile, twinStateDirs, type OrphanReap, type TwinState } from '../twin/launcher.ts';
import { findOrphans, isSameProcessAlive, listPids, reapStale, twinProcesses, waitExited, type PidRecord } from '../twin/launcher.ts';
import type { UpOptions } from './commands/twin.ts';
import { UserError } from './errors.ts';
import { COMMAND_TIMEOUTS, DEFAULT_TIMEOUTS, formatTimeout, twinUpBudget } from '../core/timeouts.ts';

const BIN = join(packageRoot(import.meta.url), 'bin', 'pd-harness.js');

export async function twinUp(opts: UpOptions): Promise<void> {
  const stateDir = resolve(opts.stateDir);
  const running = liveState(stateDir);
  if (running)
    throw new UserError(`a twin already runs (pid ${running.pid}, gateway ${running.gatewayUrl}); stop it with: npx pd-harness twin down`);
  if (opts.detach) return detach(opts, stateDir);
  const reaped = await reapOrphanTwins(stateDir);
  const reapedLine = describeReap(reaped);
  if (reapedLine) process.stderr.write(`${reapedLine}\n`);

  const twin = await startTwin({ stateDir, port: opts.port ?? 0, gatewayPort: opts.gatewayPort, ipPrefix: opts.ipPrefix }).catch(
    (err: Error) => {
      throw new UserError(`the twin did not start: ${err.message.split('\n')[0]}`, 1, { cause: err });
    },
  );
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await twin.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));
  try {
    if (opts.topology === 'seed') await (await import('../runner/seed-topology.ts')).applySeedTopology(twin.kubeconfigPath);
    else if (opts.topology !== 'none') throw new UserError(`unknown topology "${opts.topology}" (seed or none)`);
  } catch (err) {
    await twin.stop();
    throw err instanceof UserError ? err : new UserError(`topology ${opts.topology}: ${(err as Error).message}`, 1, { cause: err });
  }
  const state = { ...readTwinState(stateDir)!, topology: opts.topology, ready: true };
  writeFileSync(stateFile(stateDir), JSON.stringify(state, null, 2));
  process.stdout.write(
    `twin up (pid ${process.pid})\n  API server  ${twin.apiUrl}\n  gateway     ${twin.gatewayUrl}\n  kubeconfig  ${twin.kubeconfigPath}\n` +
      `  export KUBECONFIG=${twin.kubeconfigPath}\nCtrl-C stops it.\n`,
  );
  await new Promise(() => undefined); // until a signal stops it
}

async function detach(opts: UpOptions, stateDir: string): Promise<void> {
  const logFile = join(stateDir, 'twin.log');
  rmSync(stateFile(stateDir), { force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(stateDir, { recursive: true });
  const out = openSync(logFile, 'w');
  const args = [
    BIN,
    'twin',
    'up',
    '--state-dir',
    stateDir,
    '--gateway-port',
    String(opts.gatewayPort),
    '--topology',
    opts.topology,
    '--ip-prefix',
    opts.ipPrefix,
  ];
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  child.unref();
  const budget = twinUpBudget(DEFAULT_TIMEOUTS);
  const deadline = Date.now() + budget;
  while (Date.now() < deadline) {
    const st = readTwinState(stateDir) as (TwinState & { ready?: boolean }) | undefined;
    if (st?.ready && st.pid === child.pid) {
      process.stdout.write(
        `twin up in the background (pid ${st.pid})\n  API server  ${st.apiUrl}\n  gateway     ${st.gatewayUrl}\n  kubeconfig  ${st.kubeconfigPath}\n  log         ${logFile}\n` +
          `  export KUBECONFIG=${st.kubeconfigPath}\nStop it with: npx pd-harness twin down\n`,
      );
      return;
    }
    if (exited !== null) throw new UserError(`the twin exited during start (code ${exited}); last log lines:\n${tail(logFile, 8)}`, 1);
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    // already gone
  }
  throw new UserError(`the twin did not come up within ${formatTimeout(budget)}; last log lines:\n${tail(logFile, 8)}`, 1);
}

export async function twinDown(opts: { stateDir: string }): Promise<void> {
  const stateDir = resolve(opts.stateDir);
  const state = readTwinState(stateDir);
  const lines: string[] = [];
  if (state && isSameProcessAlive(state.pid, null)) {
    process.kill(state.pid, 'SIGTERM');
    const deadline = Date.now() + COMMAND_TIMEOUTS.twinStop;
    while (Date.now() < deadline && isSameProcessAlive(state.pid, null)) await new Promise((r) => setTimeout(r, 100));
    if (isSameProcessAlive(state.pid, null)) {
      process.kill(state.pid, 'SIGKILL');
      lines.push(`twin pid ${state.pid} did not stop on SIGTERM: killed`);
    } else lines.push(`twin pid ${state.pid} stopped`);
  } else if (state) lines.push(`twin pid ${state.pid} was not running (stale state cleaned)`);
  // everything this twin recorded (its owner is stopped or dead), then orphans of dead worker twins
  const own = twinProcesses(stateDir);
  const reaped = reapStale(stateDir, { all: true });
  if (reaped.killed.length)
    lines.push(`killed ${reaped.killed.length} leftover process(es): ${reaped.killed.map((r) => `${r.pod} (pid ${r.pid})`).join(', ')}`);
  const orphans = await reapOrphanTwins(stateDir);
  const orphanLine = describeReap(orphans);
  if (orphanLine) lines.push(orphanLine);
  // down means down: wait until every process of the twin has exited, not only until it was signalled
  const stillAlive = [...(await waitExited(own)), ...orphans.stillAlive];
  rmSync(stateFile(stateDir), { force: true });
  process.stdout.write(`${lines.length ? lines.join('\n') : 'no twin was running'}\n`);
  if (stillAlive.length)
    throw new UserError(`still running after SIGKILL: ${stillAlive.map((r) => `${r.pod} (pid ${r.pid})`).join(', ')}`, 1);
}

/** One line about orphans reaped (processes of twins whose run was killed), or '' when there were none. */
export function describeReap(r: OrphanReap): string {
  if (r.killed.length === 0) return '';
  return `reaped ${r.killed.length} orphaned twin process(es) whose owner is gone: ${r.killed.map((p) => `${p.pod} (pid ${p.pid}, owner ${p.ownerPid})`).join(', ')}`;
}

function orphanLines(orphans: readonly PidRecord[]): string {
  if (orphans.length === 0) return '';
  return `\norphaned processes (their twin is gone; npx pd-harness twin down kills them):\n${orphans.map((o) => `  ${o.pod}  pid ${o.pid}  owner ${o.ownerPid} (gone)`).join('\n')}\n`;
}

export async function twinStatus(opts: { json?: boolean; stateDir: string }): Promise<void> {
  const stateDir = resolve(opts.stateDir);
  const state = readTwinState(stateDir);
  const running = !!state && isSameProcessAlive(state.pid, null);
  const pids = listPids(stateDir);
  const orphans = findOrphans(twinStateDirs(stateDir));
  let pods: PodRow[] = [];
  if (running && state) pods = await listPodRows(state.kubeconfigPath, pids);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ running, ...(state ?? {}), pods, processes: pids.length, orphans: orphans.map(({ pid, pod, ownerPid, stateDir: dir }) => ({ pid, pod, ownerPid, stateDir: dir })) }, null, 2)}\n`,
    );
    return;
  }
  if (!state) {
    process.stdout.write(
      `twin is not running${pids.length ? ` (${pids.length} leftover process record(s): run npx pd-harness twin down)` : ''}\n${orphanLines(orphans)}`,
    );
    return;
  }
  if (!running) {
    process.stdout.write(
      `twin is not running (stale state of pid ${state.pid}: run npx pd-harness twin down to clean up)\n${orphanLines(orphans)}`,
    );
    return;
  }
  const rows = [
    ['NAMESPACE', 'NAME', 'PHASE', 'READY', 'RESTARTS', 'IP', 'NODE', 'PID'],
    ...pods.map((p) => [
      p.namespace,
      p.name,
      p.phase,
      p.ready ? 'true' : 'false',
      String(p.restarts),
      p.ip ?? '',
      p.node ?? '',
      p.pid ? String(p.pid) : '',
    ]),
  ];
  process.stdout.write(
    `twin running (pid ${state.pid})\n  API server  ${state.apiUrl}\n  gateway     ${state.gatewayUrl}\n  kubeconfig  ${state.kubeconfigPath}\n\n` +
      textTable(rows) +
      orphanLines(orphans),
  );
}

export function twinKubeconfig(opts: { stateDir: string }): void {
  const path = join(resolve(opts.stateDir), 'kubeconfig');
  if (!existsSync(path)) throw new UserError(`no twin kubeconfig at ${path}: start the twin with npx pd-harness twin up --detach`);
  process.stdout.write(`${path}\n`);
}

interface PodRow {
  namespace: string;
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  ip?: string;
  node?: string;
  pid?: number;
}

async function listPodRows(kubeconfigPath: string, pids: { pid: number; pod: string }[]): Promise<PodRow[]> {
  // loaded here, not with the module: `twin down`, `twin kubeconfig` and a status with no twin need no API client
  const { CoreV1Api, KubeConfig } = await import('#client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const res = await kc.makeApiClient(CoreV1Api).listPodForAllNamespaces();
  return res.items.map((p) => {
    const ns = p.metadata?.namespace ?? '';
    const name = p.metadata?.name ?? '';
    return {
      namespace: ns,
      name,
      phase: p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Pending'),
      ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
      restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
      ip: p.status?.podIP,
      node: p.spec?.nodeName,
      pid: pids.find((r) => r.pod.startsWith(`${ns}/${name}/`))?.pid,
    };
  });
}

function liveState(stateDir: string): TwinState | undefined {
  const st = readTwinState(stateDir);
  return st && isSameProcessAlive(st.pid, null) ? st : undefined;
}

function tail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { PID_RECORD_ENV, pidRecordEnv, pidsDir, processStartTime, readProcStat, writePidRecord } from './pid-record.mjs';

/** One process the twin started, as recorded in `<stateDir>/pids/<pid>.json`. */
export interface PidRecord {
  pid: number;
  /** Process group id (the container's main process leads its own group). */
  pgid: number;
  /** `namespace/pod/container`, or a free-form owner label for non-pod processes. */
  pod: string;
  /** Field 22 of /proc/PID/stat (clock ticks since boot): tells a reused pid from ours. */
  startTime: number | null;
  startedAt: string;
  /** The process that started it (the twin): when it is gone, the record is stale. */
  ownerPid: number;
  ownerStartTime: number | null;
}

// the record's rules, shared with the pod processes' preload (which records a pod itself, pid-record.mjs)
export { parseProcStat, pidsDir, processStartTime, PID_RECORD_ENV, readProcStat } from './pid-record.mjs';

/** True when `pid` runs and (if known) is the same process that started at `startTime`; zombies count as gone. */
export function isSameProcessAlive(pid: number, startTime: number | null): boolean {
  const stat = readProcStat(pid);
  if (stat) return stat.state !== 'Z' && (startTime === null || stat.startTime === startTime);
  if (startTime !== null) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const ownerStartTime = processStartTime(process.pid);

export function recordPid(stateDir: string, entry: { pid: number; pgid: number; pod: string }): PidRecord {
  const record: PidRecord = {
    ...entry,
    startTime: processStartTime(entry.pid),
    startedAt: new Date().toISOString(),
    ownerPid: process.pid,
    ownerStartTime,
  };
  writePidRecord(stateDir, record);
  return record;
}

/**
 * The environment a process started for `pod` gets so that it records itself (PID_RECORD_ENV), owned by this
 * process: a kubelet killed between spawn() and recordPid() must not leave a process no record names.
 */
export function selfRecordEnv(stateDir: string, pod: string): Record<string, string> {
  return { [PID_RECORD_ENV]: pidRecordEnv(stateDir, pod, process.pid, ownerStartTime) };
}

export function removePid(stateDir: string, pid: number): void {
  fs.rmSync(path.join(pidsDir(stateDir), `${pid}.json`), { force: true });
}

export function listPids(stateDir: string): PidRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(pidsDir(stateDir));
  } catch {
    return [];
  }
  const out: PidRecord[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(fs.readFileSync(path.join(pidsDir(stateDir), name), 'utf8')) as PidRecord);
    } catch {
      // unreadable record: ignore, it names no process we could verify
    }
  }
  return out;
}

/** Pids of live processes in process group `pgid` (scanning /proc). */
export function processGroupMembers(pgid: number): number[] {
  const out: number[] = [];
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return out;
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat && stat.pgrp === pgid && stat.state !== 'Z') out.push(Number(name));
  }
  return out;
}

/**
 * Processes whose environment says this twin started them (PID_RECORD_ENV naming `stateDir`), recorded or not: the
 * kernel's view (/proc/PID/environ, as the process was started), for a pod whose kubelet was killed before either
 * record was written. Zombies are left out. Only processes of this user are readable, and only those are ours.
 */
export function processesFromEnvironment(stateDir: string): PidRecord[] {
  const want = path.resolve(stateDir);
  const key = `${PID_RECORD_ENV}=`;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const out: PidRecord[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let environ: string;
    try {
      environ = fs.readFileSync(`/proc/${name}/environ`, 'utf8');
    } catch {
      continue; // gone, or another user's
    }
    const at = environ.startsWith(key) ? 0 : environ.indexOf(`\0${key}`) + 1 || -1;
    if (at < 0) continue;
    const end = environ.indexOf('\0', at);
    let owner: { stateDir?: unknown; pod?: unknown; ownerPid?: unknown; ownerStartTime?: unknown };
    try {
      owner = JSON.parse(environ.slice(at + key.length, end < 0 ? undefined : end)) as typeof owner;
    } catch {
      continue;
    }
    if (typeof owner.stateDir !== 'string' || path.resolve(owner.stateDir) !== want) continue;
    const pid = Number(name);
    const stat = readProcStat(pid);
    if (!stat || stat.state === 'Z') continue;
    out.push({
      pid,
      pgid: stat.pgrp,
      pod: typeof owner.pod === 'string' ? owner.pod : 'unknown',
      startTime: stat.startTime,
      startedAt: 'unrecorded',
      ownerPid: typeof owner.ownerPid === 'number' ? owner.ownerPid : 0,
      ownerStartTime: typeof owner.ownerStartTime === 'number' ? owner.ownerStartTime : null,
    });
  }
  return out;
}

/** Every process of the twin at `stateDir`: its pid records, and the processes its environment names that none records. */
export function twinProcesses(stateDir: string): PidRecord[] {
  const recorded = listPids(stateDir);
  const known = new Set(recorded.map((r) => r.pid));
  return [...recorded, ...processesFromEnvironment(stateDir).filter((p) => !known.has(p.pid))];
}

export interface ReapResult {
  killed: PidRecord[];
  /** Records whose pid now belongs to another process: removed, nothing killed. */
  reused: PidRecord[];
  /** Records left alone because their owner is still running (only without `all`). */
  live: PidRecord[];
}

/**
 * Kills what a dead twin left behind: every recorded process group whose owner process is gone
 * (or every one, with `all`), after checking the pid still names the same process (start time from
 * /proc/PID/stat). A group whose leader died but whose children live is killed too: Linux does not
 * hand out a pid while it is still some group's id.
 */
export function reapStale(stateDir: string, options: { all?: boolean } = {}): ReapResult {
  const result: ReapResult = { killed: [], reused: [], live: [] };
  for (const record of twinProcesses(stateDir)) {
    if (!options.all && !ownerGone(record) && record.ownerPid !== process.pid) {
      result.live.push(record);
      continue;
    }
    if (!options.all && record.ownerPid === process.pid) {
      result.live.push(record);
      continue;
    }
    const leader = readProcStat(record.pid);
    const leaderIsOurs = leader !== undefined && (record.startTime === null || leader.startTime === record.startTime);
    if (leader !== undefined && !leaderIsOurs) {
      // pid reused by an unrelated process; its group (if any) is not ours either.
      result.reused.push(record);
    } else if (leaderIsOurs || processGroupMembers(record.pgid).length > 0) {
      killGroup(record.pgid);
      result.killed.push(record);
    }
    removePid(stateDir, record.pid);
  }
  return result;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A recorded process (or its group) that still runs although the process that started it is gone. */
export interface Orphan extends PidRecord {
  stateDir: string;
}

/** True when the record's owner (the twin that started it) no longer runs. */
function ownerGone(record: PidRecord): boolean {
  return record.ownerPid !== process.pid && !isSameProcessAlive(record.ownerPid, record.ownerStartTime);
}

/** True when the recorded process, or any member of its process group, still runs. */
export function recordAlive(record: PidRecord): boolean {
  const leader = readProcStat(record.pid);
  if (leader && leader.state !== 'Z' && (record.startTime === null || leader.startTime === record.startTime)) return true;
  if (leader && record.startTime !== null && leader.startTime !== record.startTime) return false; // pid reused
  return processGroupMembers(record.pgid).length > 0;
}

/** Orphans recorded in these state dirs: owner gone, process (group) still alive. Reads only. */
export function findOrphans(stateDirs: readonly string[]): Orphan[] {
  const out: Orphan[] = [];
  for (const stateDir of stateDirs)
    for (const r of twinProcesses(stateDir)) if (ownerGone(r) && recordAlive(r)) out.push({ ...r, stateDir });
  return out;
}

/**
 * Waits until every given process and its group has exited (after a kill); returns those still alive at
 * the deadline. A twin is down only when this returns nothing.
 */
export async function waitExited(records: readonly PidRecord[], timeoutMs = 30_000): Promise<PidRecord[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = records.filter(recordAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    for (const r of alive) killGroup(r.pgid);
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(recordAlive);
  }
  return alive;
}

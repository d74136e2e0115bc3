// How the twin records the processes it starts (`<stateDir>/pids/<pid>.json`), in plain JS: the kubelet's
// supervisor (through pidfiles.ts) and the preload of every pod process (preload.mjs) both write records.
//
// Why the pod writes its own as well: the kubelet records a pod process right after spawn() returns. A kubelet
// killed between the fork and that write (a SIGKILLed run, an OOM kill) leaves a running pod that no record
// names, so neither `twin down` nor the next run's reaping can find it: it runs on, forever. A real runtime
// knows its containers from its own state (containerd's shim), not from the kubelet. Here the pod's preload
// records the process itself, from PD_TWIN_PID_RECORD (its pod and the twin that owns it), unless the kubelet's
// record is already there.
import fs from 'node:fs';
import path from 'node:path';

/** The environment variable that tells a pod process where and how to record itself. */
export const PID_RECORD_ENV = 'PD_TWIN_PID_RECORD';

export function pidsDir(stateDir) {
  return path.join(stateDir, 'pids');
}

/**
 * Parses /proc/PID/stat content into { state, ppid, pgrp, utime, stime, startTime } (times in clock ticks); the
 * command name may contain spaces and ')'.
 */
export function parseProcStat(content) {
  const close = content.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = content
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // fields[0] is field 3 (state); field N is fields[N - 3].
  const state = fields[0];
  const ppid = Number(fields[1]);
  const pgrp = Number(fields[2]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const startTime = Number(fields[19]);
  if (state === undefined || !Number.isFinite(pgrp) || !Number.isFinite(startTime)) return undefined;
  return { state, ppid, pgrp, utime, stime, startTime };
}

/** /proc/PID/stat parsed (parseProcStat), or undefined where there is no /proc or no such process. */
export function readProcStat(pid) {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat (clock ticks since boot), or null where there is no /proc or no such process. */
export function processStartTime(pid) {
  return readProcStat(pid)?.startTime ?? null;
}

/**
 * Writes a record. Not `exclusive`: write and rename (a reader never sees half a record). `exclusive`: only when
 * no record of that pid exists yet (false when one did).
 */
export function writePidRecord(stateDir, record, exclusive = false) {
  const dir = pidsDir(stateDir);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${record.pid}.json`);
  if (!exclusive) {
    fs.writeFileSync(`${file}.tmp-${process.pid}`, JSON.stringify(record));
    fs.renameSync(`${file}.tmp-${process.pid}`, file);
    return true;
  }
  if (fs.existsSync(file)) return false; // the usual case: the kubelet recorded it already, no write at start-up
  const tmp = `${file}.self-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(record));
  try {
    fs.linkSync(tmp, file); // fails when the file exists: the kubelet's record stays as it is
    return true;
  } catch (err) {
    if (err && err.code === 'EEXIST') return false;
    throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** The value of PID_RECORD_ENV for a process that `owner` (pid and start time) starts for `pod`. */
export function pidRecordEnv(stateDir, pod, ownerPid, ownerStartTime) {
  return JSON.stringify({ stateDir, pod, ownerPid, ownerStartTime });
}

/**
 * In a pod process: records this process from PID_RECORD_ENV unless a record of it exists. The process leads its
 * own group (the kubelet starts it detached). Returns whether it wrote one; never throws (a pod must not die of it).
 */
export function recordSelf(env = process.env) {
  const raw = env[PID_RECORD_ENV];
  if (!raw) return false;
  try {
    const { stateDir, pod, ownerPid, ownerStartTime } = JSON.parse(raw);
    const record = {
      pid: process.pid,
      pgid: process.pid,
      pod,
      startTime: processStartTime(process.pid),
      startedAt: new Date().toISOString(),
      ownerPid,
      ownerStartTime,
    };
    return writePidRecord(stateDir, record, true);
  } catch {
    return false;
  }
}

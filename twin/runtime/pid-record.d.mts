import type { PidRecord } from './pidfiles.ts';

export declare const PID_RECORD_ENV: string;
export declare function pidsDir(stateDir: string): string;
export declare function parseProcStat(
  content: string,
): { state: string; ppid: number; pgrp: number; utime: number; stime: number; startTime: number } | undefined;
export declare function readProcStat(pid: number): ReturnType<typeof parseProcStat>;
export declare function processStartTime(pid: number): number | null;
export declare function writePidRecord(stateDir: string, record: PidRecord, exclusive?: boolean): boolean;
export declare function pidRecordEnv(stateDir: string, pod: string, ownerPid: number, ownerStartTime: number | null): string;
export declare function recordSelf(env?: NodeJS.ProcessEnv): boolean;

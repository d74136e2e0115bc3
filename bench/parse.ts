/** Pure parsers and statistics the benchmarks use on tool output and samples. */
import { parseProcStat } from '../twin/runtime/pid-record.mjs';

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** `Maximum resident set size (kbytes): N` from GNU time's `-v` report, in bytes. */
export function parseTimeVMaxRss(report: string): number | undefined {
  const m = /Maximum resident set size \(kbytes\):\s*(\d+)/.exec(report);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** User + system CPU seconds from GNU time's `-v` report (all processes it waited for). */
export function parseTimeVCpuSeconds(report: string): number | undefined {
  const user = /User time \(seconds\):\s*([\d.]+)/.exec(report);
  const sys = /System time \(seconds\):\s*([\d.]+)/.exec(report);
  return user && sys ? Number(user[1]) + Number(sys[1]) : undefined;
}

/** `uniq -c` output (`  25080 name`) as a map name → count. */
export function parseUniqCounts(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s+(.+?)\s*$/.exec(line);
    if (m) out[m[2]!] = (out[m[2]!] ?? 0) + Number(m[1]);
  }
  return out;
}

/** `VmRSS:	  12345 kB` from /proc/PID/status, in bytes. */
export function parseVmRss(status: string): number | undefined {
  const m = /^VmRSS:\s*(\d+)\s*kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : undefined;
}

/** utime + stime (clock ticks) from /proc/PID/stat, parsed as the twin parses it (twin/runtime/pid-record.mjs). */
export function parseStatCpuTicks(stat: string): number | undefined {
  const parsed = parseProcStat(stat);
  return parsed && Number.isFinite(parsed.utime) && Number.isFinite(parsed.stime) ? parsed.utime + parsed.stime : undefined;
}

/** Per-key difference after - before (keys of `after`), e.g. CPU seconds spent during a run. */
export function deltas(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) out[k] = v - (before[k] ?? 0);
  return out;
}

/** Keys whose counts differ between two maps (missing counts as 0), for a one-line mismatch message. */
export function countDiff(a: Record<string, number>, b: Record<string, number>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const diffs: string[] = [];
  for (const k of [...keys].sort()) if ((a[k] ?? 0) !== (b[k] ?? 0)) diffs.push(`${k}: ${a[k] ?? 0} vs ${b[k] ?? 0}`);
  return diffs;
}

export const MB = 1024 * 1024;

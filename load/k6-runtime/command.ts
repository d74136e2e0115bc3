import * as fs from 'node:fs';
import { UserError } from '../../core/errors.ts';
import { runK6ScriptReport, type K6RunReport, type K6ScriptRunOptions } from './run.ts';
import { summaryExport, textSummary } from './summary.ts';

/**
 * `k6 run` on the built-in runtime: the one front end behind `pd-harness k6 run` (cli/commands/k6.ts) and the
 * stand-in `k6` binary / grafana/k6 pod program (load/k6/k6-cli.ts). Both parse their flags and call
 * `k6RunCommand`; it runs the script, writes handleSummary's outputs or k6's end-of-test summary,
 * `--summary-export`, and gives k6's exit code (internal/errext/exitcodes, k6 v2.2.0).
 */
export const K6_EXIT = { thresholdsCrossed: 99, invalidConfig: 104, scriptException: 107, testAborted: 108 } as const;

export interface K6RunCommand {
  script: string;
  /** `__ENV` (the front end merges the system environment and `-e K=V`). */
  env: Record<string, string>;
  overrides?: K6ScriptRunOptions['overrides'];
  /** `--summary-export FILE`: k6's legacy summary JSON. */
  summaryExport?: string;
  /** `--no-summary`: no end-of-test summary (handleSummary still runs, as in k6). */
  noSummary?: boolean;
  executionSegment?: K6ScriptRunOptions['executionSegment'];
  onSample?: K6ScriptRunOptions['onSample'];
  signal?: AbortSignal;
  /** Runtime log lines (`ERRO ...`, `WARN ...`, `INFO ... source=console`); default stderr. */
  log?: (line: string) => void;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Called when the run is over, before the summary is written (the stand-in writes `--out json` here). */
  onReport?: (report: K6RunReport) => void;
}

export interface K6RunOutcome {
  exitCode: number;
  report: K6RunReport;
}

/** k6's `--vus`, `--duration`, `--iterations` as run overrides; a bad value is a UserError naming the flag. */
export function parseOverrides(o: {
  vus?: string | undefined;
  duration?: string | undefined;
  iterations?: string | undefined;
}): NonNullable<K6ScriptRunOptions['overrides']> {
  const int = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new UserError(`${flag} ${v}: expected a whole number`);
    return Number(v);
  };
  const out: NonNullable<K6ScriptRunOptions['overrides']> = {};
  const vus = int(o.vus, '--vus');
  const iterations = int(o.iterations, '--iterations');
  if (vus !== undefined) out.vus = vus;
  if (iterations !== undefined) out.iterations = iterations;
  if (o.duration !== undefined) out.duration = o.duration;
  return out;
}

/** The process environment as k6 passes it to `__ENV` (`--include-system-env-vars`, on by default for `k6 run`). */
export function systemEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
}

/**
 * Run the script and report as `k6 run` does. A missing script, a refused script or invalid options throw a
 * UserError (its exitCode: 2 refused, 104 invalid options, 107 exception in init); otherwise the exit code is
 * 99 when a threshold is crossed, 107 for an exception in setup, 108 for `exec.test.abort()`, else 0.
 */
export async function k6RunCommand(c: K6RunCommand): Promise<K6RunOutcome> {
  const stdout = c.stdout ?? ((t: string) => process.stdout.write(t));
  const stderr = c.stderr ?? ((t: string) => process.stderr.write(t));
  const log = c.log ?? ((line: string) => stderr(`${line}\n`));
  if (!fs.existsSync(c.script)) throw new UserError(`k6 script ${c.script}: no such file`);
  const report = await runK6ScriptReport({
    script: c.script,
    env: c.env,
    log,
    ...(c.overrides ? { overrides: c.overrides } : {}),
    ...(c.executionSegment ? { executionSegment: c.executionSegment } : {}),
    ...(c.onSample ? { onSample: c.onSample } : {}),
    ...(c.signal ? { signal: c.signal } : {}),
  });
  c.onReport?.(report);
  if (report.handleSummary) {
    for (const [target, content] of Object.entries(report.handleSummary)) {
      if (target === 'stdout') stdout(content);
      else if (target === 'stderr') stderr(content);
      else fs.writeFileSync(target, content);
    }
  } else if (!c.noSummary) stdout(textSummary(report));
  if (c.summaryExport) fs.writeFileSync(c.summaryExport, `${JSON.stringify(summaryExport(report), null, 2)}\n`);
  const crossed = [...new Set(report.thresholds.filter((t) => !t.ok).map((t) => t.metric))].sort();
  if (report.abort?.kind === 'thresholds' || crossed.length > 0) {
    // internal/cmd/run.go (k6 v2.2.0): "thresholds on metrics '%s' have been crossed", names joined by ", "
    log(`ERRO thresholds on metrics '${crossed.join(', ')}' have been crossed`);
    return { exitCode: K6_EXIT.thresholdsCrossed, report };
  }
  if (report.abort?.kind === 'script') {
    log(`ERRO ${report.abort.message}`);
    return { exitCode: report.abort.message.startsWith('setup:') ? K6_EXIT.scriptException : K6_EXIT.testAborted, report };
  }
  return { exitCode: 0, report };
}

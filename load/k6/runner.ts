import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { UserError } from '../../core/errors.ts';
import { assertLoadTarget } from '../loopback.ts';
import type { LoadResult } from '../result.ts';
import { summarize } from '../summary.ts';
import { parseK6JsonLines } from './output.ts';
import { parseSummaryExport } from './summary-export.ts';

export const K6_NOT_FOUND =
  'k6 not found on PATH: install it (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use engine: builtin';

/** k6's exit code when thresholds were crossed (errext/exitcodes ThresholdsHaveFailed). */
export const K6_THRESHOLDS_CROSSED = 99;

export interface K6RunOptions {
  /** Path of the k6 script (.js, or .ts for k6 v0.57+). */
  script: string;
  /** Passed as `-e K=V` (the script reads `__ENV`). */
  env?: Record<string, string>;
  /** Convenience: sets `-e GATEWAY=...` after the loopback check. */
  gatewayUrl?: string;
  allowRemote?: boolean;
  /** Where k6 writes its JSON points and summary; a fresh temp dir when absent (removed afterwards). */
  outDir?: string;
  /** The k6 executable; `k6` from PATH by default. */
  k6Binary?: string;
  /** Environment of the k6 process (default: this process's). */
  processEnv?: NodeJS.ProcessEnv;
  /** Hard bound for the k6 process. */
  timeoutMs?: number;
  signal?: AbortSignal;
  extraArgs?: string[];
}

/** The command line the runner uses, without the binary. */
export function k6Args(opts: {
  script: string;
  env: Record<string, string>;
  jsonFile: string;
  summaryFile: string;
  extraArgs?: string[];
}): string[] {
  const args = ['run', '--quiet', '--out', `json=${opts.jsonFile}`, `--summary-export=${opts.summaryFile}`];
  for (const [k, v] of Object.entries(opts.env)) args.push('-e', `${k}=${v}`);
  return [...args, ...(opts.extraArgs ?? []), opts.script];
}

/** The last meaningful stderr line; for k6's logfmt lines (`level=error msg="..."`) just the message. */
export function lastStderrLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const last = lines.at(-1) ?? '';
  const msg = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(last);
  // logfmt escapes newlines: keep the message's first line (a JS exception's stack follows it).
  return msg?.[1] !== undefined ? (msg[1].split('\\n')[0] ?? '').replace(/\\"/g, '"') : last;
}

function readOutput(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`k6 wrote no ${what} at ${file}`);
  }
}

/**
 * Run `k6 run` and turn its JSON points and summary export into a LoadResult (engine `k6`). Exit 0 and 99
 * (thresholds crossed) give a result; 99's failed thresholds are in `result.thresholds`. Any other exit, a
 * missing k6, or malformed output is a one-line UserError.
 */
export async function runK6(opts: K6RunOptions): Promise<LoadResult> {
  const env: Record<string, string> = { ...(opts.env ?? {}) };
  if (opts.gatewayUrl !== undefined) {
    assertLoadTarget(opts.gatewayUrl, opts.allowRemote);
    env['GATEWAY'] = opts.gatewayUrl;
  }
  if (!fs.existsSync(opts.script)) throw new UserError(`k6 script not found: ${opts.script}`);
  const tempDir = opts.outDir === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'pd-harness-k6-')) : undefined;
  const dir = opts.outDir ?? tempDir ?? '.';
  fs.mkdirSync(dir, { recursive: true });
  const jsonFile = path.join(dir, 'k6-points.json');
  const summaryFile = path.join(dir, 'k6-summary.json');
  const startedAt = new Date().toISOString();
  try {
    const argv = k6Args({ script: opts.script, env, jsonFile, summaryFile, ...(opts.extraArgs ? { extraArgs: opts.extraArgs } : {}) });
    const res = await execa(opts.k6Binary ?? 'k6', argv, {
      reject: false,
      env: opts.processEnv ?? process.env,
      extendEnv: opts.processEnv === undefined,
      ...(opts.timeoutMs !== undefined ? { timeout: opts.timeoutMs } : {}),
      ...(opts.signal ? { cancelSignal: opts.signal } : {}),
      stdin: 'ignore',
    });
    if ((res as { code?: string }).code === 'ENOENT') throw new UserError(K6_NOT_FOUND);
    if (res.timedOut) throw new UserError(`k6 run did not finish within ${opts.timeoutMs} ms`);
    if (res.isCanceled) throw new UserError('k6 run was cancelled');
    const exitCode = res.exitCode;
    if (exitCode !== 0 && exitCode !== K6_THRESHOLDS_CROSSED) {
      const why = lastStderrLine(String(res.stderr ?? '')) || `signal ${res.signal ?? 'unknown'}`;
      throw new UserError(`k6 run failed (exit ${exitCode ?? 'none'}): ${why}`);
    }
    const parsed = parseK6JsonLines(readOutput(jsonFile, 'JSON output'), jsonFile);
    const exported = parseSummaryExport(readOutput(summaryFile, 'summary export'), summaryFile);
    const thresholds = exported.thresholds;
    if (exitCode === K6_THRESHOLDS_CROSSED && !thresholds.some((t) => !t.ok)) {
      thresholds.push({ metric: '(k6)', expression: 'exit code 99: thresholds crossed', ok: false });
    }
    const durationMs =
      exported.httpReqs && exported.httpReqs.rate > 0 ? (exported.httpReqs.count / exported.httpReqs.rate) * 1000 : undefined;
    const summary = summarize(parsed.records, {
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(parsed.droppedIterations > 0 ? { dropped: parsed.droppedIterations } : {}),
    });
    return { engine: 'k6', startedAt, records: parsed.records, summary, thresholds };
  } finally {
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

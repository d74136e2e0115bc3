/**
 * The stand-in `k6` binary on pd-harness's built-in k6 runtime, for what the harness and k6-operator use of
 * the k6 CLI:
 *
 *   k6 run [-q] [-e K=V]... [-u N] [-d D] [-i N] [--out json=FILE|json=-] [--summary-export FILE] [--tag K=V]...
 *          [--execution-segment A:B --execution-segment-sequence 0,1/n,...,1] [--paused --address HOST:PORT]
 *          [--no-summary] [--[no-]include-system-env-vars] SCRIPT
 *   k6 inspect --execution-requirements SCRIPT
 *   k6 version
 *
 * A thin wrapper over the same front end as `pd-harness k6 run` (load/k6-runtime/command.ts: the run,
 * handleSummary, k6's end-of-test summary, `--summary-export`, the exit codes); it adds only k6's flag
 * syntax, `--out json` (JSON lines `{"type":"Metric"...}` / `{"type":"Point"...}`, k6 output/json),
 * `--tag`, `--execution-segment`, `--paused` with k6's REST API (`GET|PATCH /v1/status` on `--address`, the
 * call k6-operator's starter makes), `inspect` and `version`, and k6's logfmt log lines. The twin runs it for
 * the `grafana/k6` image (twin/runtime/images.ts), the tests put it on PATH as `k6` (test/bin/k6). Exit codes:
 * k6's (99 thresholds crossed, 104 invalid options, 107 script exception, 108 test aborted), 107 also for a
 * script the built-in runtime refuses, 255 for bad flags.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.ts';
import { bundleK6Script } from '../k6-runtime/bundle.ts';
import { K6_EXIT, k6RunCommand, parseOverrides, systemEnv } from '../k6-runtime/command.ts';
import type { TaggedSample } from '../k6-runtime/run.ts';
import { InitError } from '../k6-runtime/vu-pool.ts';

export const EXIT_THRESHOLDS = K6_EXIT.thresholdsCrossed;
export const EXIT_SCRIPT = K6_EXIT.scriptException;
export const EXIT_FLAGS = 255;

export interface K6CliArgs {
  command: string;
  script?: string;
  env: Record<string, string>;
  quiet: boolean;
  noSummary: boolean;
  includeSystemEnv: boolean;
  overrides: { vus?: string; duration?: string; iterations?: string };
  json?: string;
  summaryExport?: string;
  tags: Record<string, string>;
  segment?: { index: number; count: number };
  paused: boolean;
  /** `--address`: where k6's REST API listens (k6's default localhost:6565); served when given or paused. */
  address: string;
  addressGiven: boolean;
}

class FlagError extends Error {}

/** `a/b` or an integer as a fraction [numerator, denominator]. */
function fraction(text: string): [number, number] {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text.trim());
  if (!m) throw new FlagError(`invalid execution segment value ${JSON.stringify(text)}`);
  return [Number(m[1]), Number(m[2] ?? 1)];
}

/**
 * `--execution-segment A:B` with its sequence as an index of equal segments (what k6-operator passes:
 * pkg/segmentation NewCommandFragments, `i/n:(i+1)/n` and `0,1/n,...,1`); others are refused.
 */
export function equalSegment(segment: string, sequence: string | undefined): { index: number; count: number } {
  const [a, b] = segment.split(':');
  if (a === undefined || b === undefined) throw new FlagError(`invalid --execution-segment ${JSON.stringify(segment)} (expected A:B)`);
  const [an, ad] = fraction(a);
  const [bn, bd] = fraction(b);
  const from = an / ad;
  const to = bn / bd;
  const count = Math.round(1 / (to - from));
  const index = Math.round(from * count);
  const equal = to > from && Math.abs(to - from - 1 / count) < 1e-9 && Math.abs(from - index / count) < 1e-9;
  if (!equal)
    throw new FlagError(`--execution-segment ${segment}: only equal segments i/n:(i+1)/n are supported by the built-in k6 runtime`);
  if (sequence !== undefined) {
    const points = sequence
      .split(',')
      .map((p) => fraction(p))
      .map(([n, d]) => n / d);
    const expected = Array.from({ length: count + 1 }, (_, i) => i / count);
    if (points.length !== expected.length || points.some((p, i) => Math.abs(p - (expected[i] ?? -1)) > 1e-9)) {
      throw new FlagError(
        `--execution-segment-sequence ${sequence}: only equal segments 0,1/n,...,1 are supported by the built-in k6 runtime`,
      );
    }
  }
  return { index, count };
}

export function parseK6Args(argv: readonly string[]): K6CliArgs {
  const out: K6CliArgs = {
    command: argv[0] ?? '',
    env: {},
    quiet: false,
    noSummary: false,
    includeSystemEnv: true,
    overrides: {},
    tags: {},
    paused: false,
    address: 'localhost:6565',
    addressGiven: false,
  };
  let segment: string | undefined;
  let sequence: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const raw = argv[i] as string;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      const v = eq > 0 ? raw.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new FlagError(`flag needs an argument: ${flag}`);
      return v;
    };
    const kv = (what: string): [string, string] => {
      const v = value();
      const at = v.indexOf('=');
      if (at <= 0) throw new FlagError(`${what} ${JSON.stringify(v)}: expected KEY=VALUE`);
      return [v.slice(0, at), v.slice(at + 1)];
    };
    switch (flag) {
      case '-q':
      case '--quiet':
        out.quiet = true;
        break;
      case '-e':
      case '--env': {
        const [k, v] = kv('--env');
        out.env[k] = v;
        break;
      }
      case '-o':
      case '--out': {
        const v = value();
        if (v !== 'json' && !v.startsWith('json='))
          throw new FlagError(`invalid output type '${v}': the built-in k6 runtime writes json only`);
        out.json = v === 'json' ? '-' : v.slice('json='.length);
        break;
      }
      case '--summary-export':
        out.summaryExport = value();
        break;
      case '--tag': {
        const [k, v] = kv('--tag');
        out.tags[k] = v;
        break;
      }
      case '--execution-segment':
        segment = value();
        break;
      case '--execution-segment-sequence':
        sequence = value();
        break;
      case '--paused':
      case '-p':
        out.paused = true;
        break;
      case '--address':
      case '-a':
        out.address = value();
        out.addressGiven = true;
        break;
      case '-u':
      case '--vus':
        out.overrides.vus = value();
        break;
      case '-d':
      case '--duration':
        out.overrides.duration = value();
        break;
      case '-i':
      case '--iterations':
        out.overrides.iterations = value();
        break;
      case '--no-summary':
        out.noSummary = true;
        break;
      case '--include-system-env-vars':
        out.includeSystemEnv = true;
        break;
      case '--no-include-system-env-vars':
        out.includeSystemEnv = false;
        break;
      case '--execution-requirements':
        break;
      default:
        if (raw.startsWith('-')) throw new FlagError(`unknown flag: ${raw}`);
        if (out.script !== undefined) throw new FlagError(`one script only, got ${out.script} and ${raw}`);
        out.script = raw;
    }
  }
  if (segment !== undefined) out.segment = equalSegment(segment, sequence);
  return out;
}

/** RFC 3339 with microseconds, as Go marshals time.Time (k6's JSON output). */
export function k6Time(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const micros = Math.round((epochMs - whole) * 1000)
    .toString()
    .padStart(3, '0');
  return `${new Date(whole).toISOString().slice(0, -1)}${micros}Z`;
}

const CONTAINS: Record<string, string> = {
  http_req_duration: 'time',
  http_req_waiting: 'time',
  iteration_duration: 'time',
  data_sent: 'data',
  data_received: 'data',
};

/** k6's JSON output: one `Metric` line when a metric is first seen, one `Point` line per sample. */
class JsonOutput {
  private readonly samples: TaggedSample[] = [];
  sample(s: TaggedSample): void {
    this.samples.push(s);
  }
  /** Written when the test is over, with the threshold expressions the runtime evaluated. */
  text(thresholds: readonly { metric: string; expression: string }[]): string {
    const byMetric = new Map<string, string[]>();
    for (const t of thresholds) byMetric.set(t.metric, [...(byMetric.get(t.metric) ?? []), t.expression]);
    const declared = new Set<string>();
    const lines: string[] = [];
    for (const s of this.samples) {
      if (!declared.has(s.metric)) {
        declared.add(s.metric);
        const data = {
          name: s.metric,
          type: s.type,
          contains: CONTAINS[s.metric] ?? 'default',
          thresholds: byMetric.get(s.metric) ?? [],
          submetrics: null,
        };
        lines.push(JSON.stringify({ type: 'Metric', data, metric: s.metric }));
      }
      lines.push(JSON.stringify({ type: 'Point', data: { time: k6Time(s.timeMs), value: s.value, tags: s.tags }, metric: s.metric }));
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}

function logLine(level: string, msg: string): void {
  process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg="${msg.replace(/"/g, '\\"').replace(/\n/g, '\\n')}"\n`);
}

function logError(msg: string): void {
  logLine('error', msg);
}

const LEVELS: Record<string, string> = { ERRO: 'error', WARN: 'warning', INFO: 'info', DEBU: 'debug' };

/** The runtime's `ERRO text fields` lines as k6's logfmt lines (what k6 writes when stderr is not a terminal). */
function logRuntimeLine(line: string): void {
  const m = /^(ERRO|WARN|INFO|DEBU) ([\s\S]*)$/.exec(line);
  if (m) logLine(LEVELS[m[1] as string] as string, m[2] as string);
  else logLine('info', line);
}

/**
 * k6's REST API, the part k6-operator uses: `GET /v1/status` (its runners' readiness probe) and `PATCH /v1/status`
 * with `paused: false` (its starter). Resolves `unpaused` when the test may start.
 */
async function serveRestApi(address: string, startPaused: boolean): Promise<{ server: http.Server; unpaused: Promise<void> }> {
  const at = address.lastIndexOf(':');
  const host = at > 0 ? address.slice(0, at) : 'localhost';
  const port = Number(address.slice(at + 1));
  let resolveUnpaused: () => void = () => undefined;
  const unpaused = new Promise<void>((r) => (resolveUnpaused = r));
  if (!startPaused) resolveUnpaused();
  const server = await new Promise<http.Server>((resolve, reject) => {
    let paused = startPaused;
    const status = () =>
      JSON.stringify({
        data: {
          type: 'status',
          id: 'default',
          attributes: { status: paused ? 1 : 3, paused, vus: 0, 'vus-max': 0, stopped: false, running: !paused, tainted: false },
        },
      });
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url !== '/v1/status') {
          res.writeHead(404).end();
          return;
        }
        if (req.method === 'PATCH') {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as { data?: { attributes?: { paused?: unknown } } };
            if (body.data?.attributes?.paused === false) paused = false;
          } catch {
            res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":[{"title":"invalid JSON"}]}');
            return;
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(status());
        if (!paused) resolveUnpaused();
      });
    });
    server.once('error', reject);
    server.listen(port, host === '0.0.0.0' || host === '' ? undefined : host, () => resolve(server));
  });
  return { server, unpaused };
}

export async function k6Main(argv: readonly string[]): Promise<number> {
  let args: K6CliArgs;
  try {
    args = parseK6Args(argv);
  } catch (err) {
    if (err instanceof FlagError) {
      logError(err.message);
      return EXIT_FLAGS;
    }
    throw err;
  }
  if (args.command === 'version') {
    process.stdout.write('k6 v1.0.0 (pd-harness built-in k6 runtime)\n');
    return 0;
  }
  if (args.command !== 'run' && args.command !== 'inspect') {
    logError(`unknown command "${args.command}" for "k6"`);
    return EXIT_FLAGS;
  }
  if (!args.script || !fs.existsSync(args.script)) {
    logError(
      `The moduleSpecifier "${args.script ?? ''}" couldn't be found on local disk. Make sure that you've specified the right path to the file.`,
    );
    return EXIT_SCRIPT;
  }
  if (args.command === 'inspect') {
    // k6-operator's initializer: the script must bundle (syntax, imports the runtime supports); its options
    // are read when it runs, so the execution requirements printed are placeholders.
    try {
      (await bundleK6Script(args.script)).cleanup();
    } catch (err) {
      logError(err instanceof Error ? err.message : String(err));
      return EXIT_SCRIPT;
    }
    process.stdout.write(`${JSON.stringify({ totalDuration: '0s', maxVUs: 1 })}\n`);
    return 0;
  }
  let overrides;
  try {
    overrides = parseOverrides(args.overrides);
  } catch (err) {
    logError((err as Error).message);
    return EXIT_FLAGS;
  }
  const api = args.paused || args.addressGiven ? await serveRestApi(args.address, args.paused) : undefined;
  await api?.unpaused;
  const json = args.json !== undefined ? new JsonOutput() : undefined;
  try {
    const { exitCode } = await k6RunCommand({
      script: args.script,
      env: { ...(args.includeSystemEnv ? systemEnv() : {}), ...args.env },
      overrides,
      noSummary: args.noSummary,
      ...(args.summaryExport !== undefined ? { summaryExport: args.summaryExport } : {}),
      ...(args.segment ? { executionSegment: args.segment } : {}),
      ...(json ? { onSample: (s: TaggedSample) => json.sample({ ...s, tags: { ...s.tags, ...args.tags } }) } : {}),
      log: logRuntimeLine,
      // k6 writes its JSON output as the test runs, so before the end-of-test summary
      onReport: (report) => {
        if (!json) return;
        const text = json.text(report.thresholds);
        if (args.json === '-') process.stdout.write(text);
        else fs.writeFileSync(args.json as string, text);
      },
    });
    return exitCode;
  } catch (err) {
    if (err instanceof UserError) {
      // an exception in the init code as k6 logs it: the error, then its script location on the next line
      const init = err.cause instanceof InitError ? err.cause.scriptError : undefined;
      logError(init ? `${init.message}${init.at ? `\n\t${init.at}` : ''}` : err.message);
      // 104 (invalid options) and 107 as k6 gives them; a script the built-in runtime refuses is 107 too
      return err.exitCode === K6_EXIT.invalidConfig ? K6_EXIT.invalidConfig : EXIT_SCRIPT;
    }
    throw err;
  } finally {
    api?.server.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  k6Main(process.argv.slice(2)).then(
    // exit once stdout has drained: a pipe (a pod's log) may still hold the tail of --out json=- output
    (code) => process.stdout.write('', () => process.exit(code)),
    (err: unknown) => {
      logError(`GoError: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(103);
    },
  );
}

/**
 * The real EPP's command line (`--pool-name X`, `--grpc-port=9002`, `-v=4`), plus twin-only flags:
 *   --static-endpoints JSON|@file  fixed endpoints instead of watching Kubernetes (tests)
 *   --listen-host HOST             address to bind (default POD_IP, else 127.0.0.1)
 *   --twin-image IMAGE             the container image (the twin's runtime adds it): an image whose name contains
 *                                  `instrumented` writes the seed's "Scoring decision" lines, any other is stock
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_METRIC_NAMES, type MetricNames } from './scrape.ts';

export interface EppArgs {
  poolName: string;
  poolNamespace: string;
  poolGroup: string;
  configFile?: string;
  configText?: string;
  grpcPort: number;
  grpcHealthPort: number;
  metricsPort: number;
  /** `-v` / `--v` (GAIE cmd/epp/runner/runner.go: `flag.Int("v", logging.DEFAULT)`, DEFAULT = 2). */
  verbosity: number;
  image?: string;
  staticEndpoints?: string;
  listenHost: string;
  /** --total-queued-requests-metric, --kv-cache-usage-percentage-metric, --lora-info-metric, --cache-info-metric */
  metricNames: MetricNames;
}

/** Flags that never take a separate value. */
const BOOLEAN_FLAGS = new Set(['secure-serving', 'enable-pprof', 'ha-enable-leader-election', 'zap-log-level-debug']);

export function parseFlags(argv: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) continue;
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) {
      flags.set(body.slice(0, eq), body.slice(eq + 1));
    } else if (!BOOLEAN_FLAGS.has(body) && i + 1 < argv.length && !argv[i + 1]!.startsWith('-')) {
      flags.set(body, argv[++i]!);
    } else {
      flags.set(body, 'true');
    }
  }
  return flags;
}

function port(flags: Map<string, string>, name: string, dflt: number): number {
  const v = flags.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--${name}: "${v}" is not a port number`);
  return n;
}

export function parseEppArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): EppArgs {
  const f = parseFlags(argv);
  const configFile = f.get('config-file');
  return {
    poolName: f.get('pool-name') ?? '',
    poolNamespace: f.get('pool-namespace') ?? env.POD_NAMESPACE ?? 'default',
    poolGroup: f.get('pool-group') ?? 'inference.networking.k8s.io',
    ...(configFile !== undefined ? { configFile: resolveMountedPath(configFile, env.PD_TWIN_MOUNTS) } : {}),
    ...(f.has('config-text') ? { configText: f.get('config-text')! } : {}),
    grpcPort: port(f, 'grpc-port', 9002),
    grpcHealthPort: port(f, 'grpc-health-port', 9003),
    metricsPort: port(f, 'metrics-port', 9090),
    verbosity: verbosityOf(f.get('v')),
    ...(f.has('twin-image') ? { image: f.get('twin-image')! } : {}),
    ...(f.has('static-endpoints') ? { staticEndpoints: f.get('static-endpoints')! } : {}),
    listenHost: f.get('listen-host') ?? env.POD_IP ?? '127.0.0.1',
    metricNames: {
      queued: f.get('total-queued-requests-metric') || DEFAULT_METRIC_NAMES.queued,
      kvCacheUsage: f.get('kv-cache-usage-percentage-metric') || DEFAULT_METRIC_NAMES.kvCacheUsage,
      loraInfo: f.get('lora-info-metric') || DEFAULT_METRIC_NAMES.loraInfo,
      cacheInfo: f.get('cache-info-metric') || DEFAULT_METRIC_NAMES.cacheInfo,
    },
  };
}

/** GAIE's default verbosity is logging.DEFAULT = 2 (pkg/epp/util/logging/logging_const.go). */
export const DEFAULT_VERBOSITY = 2;

function verbosityOf(v: string | undefined): number {
  if (v === undefined) return DEFAULT_VERBOSITY;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`-v: "${v}" is not a non-negative integer`);
  return n;
}

/**
 * A container path under a volume mount → the host directory (PD_TWIN_MOUNTS: JSON mountPath → host dir).
 * Paths that already exist (the twin usually rewrites args) are returned unchanged.
 */
export function resolveMountedPath(p: string, mountsJson: string | undefined): string {
  if (existsSync(p) || !mountsJson) return p;
  let mounts: Record<string, string>;
  try {
    mounts = JSON.parse(mountsJson) as Record<string, string>;
  } catch {
    return p;
  }
  const best = Object.keys(mounts)
    .filter((m) => p === m || p.startsWith(m.endsWith('/') ? m : `${m}/`))
    .sort((a, b) => b.length - a.length)[0];
  return best === undefined ? p : path.join(mounts[best]!, path.relative(best, p));
}

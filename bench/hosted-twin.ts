/** The bench side of bench/twin-host.ts: start a twin with a topology in a child process, measure it, stop it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ManifestObject } from '../cluster/manifests.ts';
import { RANDOM_IP_PREFIX } from '../twin/launcher.ts';
import { reapStale } from '../twin/runtime/pidfiles.ts';
import { workloadOf } from '../analysis/workload.ts';
import { parseStatCpuTicks, parseVmRss } from './parse.ts';
import type { HostConfig, HostReady } from './twin-host.ts';

const HOST = fileURLToPath(new URL('./twin-host.ts', import.meta.url));

/**
 * The host as a user runs the twin (`pd-harness twin up` runs compiled JavaScript, no tsx, no source maps):
 * the build brought up to date (pods then start from dist/ too), and bench/twin-host.ts bundled into the
 * build's directory (so `import.meta.url` still finds the package root) with packages left external, by
 * esbuild in ~0.1 s.
 */
async function compiledHost(): Promise<string> {
  const { build: buildAll } = await import('../common/build.mjs');
  const b = await buildAll();
  const outfile = join(b.dir, 'bench', 'twin-host.mjs');
  {
    // always bundled again: bench/ is not part of the build's fingerprint
    const { build: esbuild } = await import('esbuild');
    const tmp = `${outfile}.tmp-${process.pid}`;
    await esbuild({
      entryPoints: [HOST],
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'silent',
      plugins: [
        {
          // build.mjs runs a build when it is the main module: import it, never inline it into the bundle
          name: 'build-script-external',
          setup: (b) => b.onResolve({ filter: /\/build\.mjs$/ }, (a) => ({ path: join(a.resolveDir, a.path), external: true })),
        },
      ],
    });
    renameSync(tmp, outfile);
  }
  return outfile;
}

export interface HostedTwin extends HostReady {
  /** VmRSS of the twin host process and of every pod process in `<stateDir>/pids/`. */
  rss(): { hostBytes: number; podBytes: number; podProcesses: number; maxPodBytes: number; pssBytes: number };
  /** CPU seconds so far per component: the twin host, and each pod's workload (pod name without its hash). */
  cpuSeconds(): Record<string, number>;
  stop(): Promise<void>;
}

export const HOST_COMPONENT = 'twin host (API server, kubelet, operator, gateway)';
const CLOCK_TICKS_PER_S = 100; // USER_HZ on Linux

function cpuSecondsOf(pid: number): number | undefined {
  try {
    const ticks = parseStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return ticks === undefined ? undefined : ticks / CLOCK_TICKS_PER_S;
  } catch {
    return undefined;
  }
}

function podRecords(stateDir: string): { pid: number; pod: string }[] {
  const out: { pid: number; pod: string }[] = [];
  for (const f of safeReaddir(join(stateDir, 'pids'))) {
    try {
      const rec = JSON.parse(readFileSync(join(stateDir, 'pids', f), 'utf8')) as { pid: number; pod: string };
      if (Number.isInteger(rec.pid)) out.push(rec);
    } catch {
      // a record being written or removed right now
    }
  }
  return out;
}

function vmRssOf(pid: number): number | undefined {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Proportional set size (/proc/PID/smaps_rollup `Pss:`): each shared page counted once across the processes
 * sharing it. Every pod is a Node process, so most of a pod's RSS is the node binary's pages shared by all.
 */
function pssOf(pid: number): number | undefined {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export async function startHostedTwin(objects: readonly ManifestObject[], timeoutMs: number): Promise<HostedTwin> {
  const dir = mkdtempSync(join(tmpdir(), 'pd-bench-twin-'));
  const objectsFile = join(dir, 'objects.json');
  writeFileSync(objectsFile, JSON.stringify(objects));
  const config: HostConfig = { stateDir: join(dir, 'state'), ipPrefix: RANDOM_IP_PREFIX, objectsFile, timeoutMs };
  const configFile = join(dir, 'host.json');
  writeFileSync(configFile, JSON.stringify(config));
  const logFd = openSync(join(dir, 'host.log'), 'w');
  const host = await compiledHost();
  const prof = process.env.PD_TWIN_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PD_TWIN_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...prof, host, configFile], { stdio: ['pipe', 'pipe', logFd] });
  closeSync(logFd);
  const cleanup = async () => {
    await stopChild(child, 20_000);
    // If the host had to be SIGKILLed, its pods outlive it: kill what its pid records still name.
    reapStale(config.stateDir);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const first = await firstLine(child, timeoutMs + 30_000);
    child.stdout!.resume(); // anything the host prints later is drained, so it can never block on a full pipe
    const ready = JSON.parse(first) as HostReady | { ok: false; error: string };
    if (!ready.ok) throw new Error(`twin topology did not come up: ${ready.error} (log ${join(dir, 'host.log')})`);
    return {
      ...ready,
      rss() {
        let podBytes = 0;
        let podProcesses = 0;
        let maxPodBytes = 0;
        let pssBytes = pssOf(child.pid!) ?? 0;
        for (const { pid } of podRecords(config.stateDir)) {
          const rss = vmRssOf(pid);
          if (rss !== undefined) {
            podBytes += rss;
            podProcesses++;
            maxPodBytes = Math.max(maxPodBytes, rss);
            pssBytes += pssOf(pid) ?? 0;
          }
        }
        return { hostBytes: vmRssOf(child.pid!) ?? 0, podBytes, podProcesses, maxPodBytes, pssBytes };
      },
      cpuSeconds() {
        const out: Record<string, number> = { [HOST_COMPONENT]: cpuSecondsOf(child.pid!) ?? 0 };
        for (const { pid, pod } of podRecords(config.stateDir)) {
          const name = workloadOf(pod.split('/')[1] ?? pod);
          out[name] = (out[name] ?? 0) + (cpuSecondsOf(pid) ?? 0);
        }
        return out;
      },
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

async function firstLine(child: ChildProcess, timeoutMs: number): Promise<string> {
  const rl = createInterface({ input: child.stdout! });
  try {
    return await new Promise<string>((resolveLine, reject) => {
      const timer = setTimeout(() => reject(new Error(`twin host gave no answer within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
      rl.once('line', (line) => {
        clearTimeout(timer);
        resolveLine(line);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`twin host exited (code ${code}) before it was ready`));
      });
    });
  } finally {
    rl.close();
  }
}

/** `twin started 0.4 s, objects applied 1.2 s, ...`: when each step of bringing the topology up ended. */
export function describePhases(phases: Record<string, number>): string {
  return Object.entries(phases)
    .map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)} s`)
    .join(', ');
}

/** Size and cost of one running topology, for the scale figure. */
export interface ScalePoint {
  proxies: number;
  modelPods: number;
  upS: number;
  rssMB: number;
  hostMB: number;
  processes: number;
  /** CPU seconds spent until Ready (the twin host and every pod process): steadier than wall time on a busy box. */
  cpuS: number;
  /** The largest pod process's RSS. */
  maxPodMB: number;
  /** Total proportional set size (shared pages counted once): the memory the topology really takes. */
  pssMB: number;
}

export function scalePoint(twin: HostedTwin, counts: { proxies: number; modelPods: number }): ScalePoint {
  const rss = twin.rss();
  return {
    ...counts,
    upS: twin.upMs / 1000,
    rssMB: (rss.hostBytes + rss.podBytes) / (1024 * 1024),
    hostMB: rss.hostBytes / (1024 * 1024),
    processes: rss.podProcesses + 1,
    cpuS: Object.values(twin.cpuSeconds()).reduce((a, b) => a + b, 0),
    maxPodMB: rss.maxPodBytes / (1024 * 1024),
    pssMB: rss.pssBytes / (1024 * 1024),
  };
}

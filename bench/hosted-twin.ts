/** The bench side of bench/twin-host.ts: start a twin with a topology in a child process, measure it, stop it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { ManifestObject } from '../cluster/manifests.ts';
import { randomIpPrefix } from '../twin/launcher.ts';
import { parseVmRss } from './parse.ts';
import type { HostConfig, HostReady } from './twin-host.ts';

const HOST = fileURLToPath(new URL('./twin-host.ts', import.meta.url));

export interface HostedTwin extends HostReady {
  /** VmRSS of the twin host process and of every pod process in `<stateDir>/pids/`. */
  rss(): { hostBytes: number; podBytes: number; podProcesses: number };
  stop(): Promise<void>;
}

function vmRssOf(pid: number): number | undefined {
  try {
    return parseVmRss(readFileSync(`/proc/${pid}/status`, 'utf8'));
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
  const config: HostConfig = { stateDir: join(dir, 'state'), ipPrefix: randomIpPrefix(), objectsFile, timeoutMs };
  const configFile = join(dir, 'host.json');
  writeFileSync(configFile, JSON.stringify(config));
  const logFd = openSync(join(dir, 'host.log'), 'w');
  const child = spawn(process.execPath, ['--import', 'tsx', HOST, configFile], { stdio: ['pipe', 'pipe', logFd] });
  closeSync(logFd);
  const cleanup = async () => {
    await stopChild(child, 20_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const first = await firstLine(child, timeoutMs + 30_000);
    const ready = JSON.parse(first) as HostReady | { ok: false; error: string };
    if (!ready.ok) throw new Error(`twin topology did not come up: ${ready.error} (log ${join(dir, 'host.log')})`);
    return {
      ...ready,
      rss() {
        let podBytes = 0;
        let podProcesses = 0;
        for (const f of safeReaddir(join(config.stateDir, 'pids'))) {
          const pid = Number(f.replace(/\.json$/, ''));
          const rss = Number.isInteger(pid) ? vmRssOf(pid) : undefined;
          if (rss !== undefined) {
            podBytes += rss;
            podProcesses++;
          }
        }
        return { hostBytes: vmRssOf(child.pid!) ?? 0, podBytes, podProcesses };
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

/** Shared helpers for the vLLM simulator tests: start it in-process or as a child process, on port 0. */
import { spawn, type ChildProcess } from 'node:child_process';
import { programArgs } from '../helpers/node-program.ts';
import { startVllmSim, type VllmSim } from '../../twin/sims/vllm/sim.ts';

export const MODEL = 'Qwen/Qwen3-Coder-30B-A3B-Instruct';
/** The simulator's program, relative to the repository (started by `programArgs`: compiled when the build is fresh). */
export const SIM = 'twin/sims/vllm/main.ts';
export const BASE_ARGS = ['serve', MODEL, '--port=0', '--max-model-len=2048', '--no-enable-prefix-caching', '--tensor-parallel-size=1'];

export interface InProcessSim extends VllmSim {
  lines: string[];
  stderrLines: string[];
}

export async function startSim(extraArgs: string[] = [], env: Record<string, string> = {}): Promise<InProcessSim> {
  const lines: string[] = [];
  const stderrLines: string[] = [];
  const sim = await startVllmSim({
    args: [...BASE_ARGS, ...extraArgs],
    host: '127.0.0.1',
    env: { VLLM_SIM_STARTUP_MS: '20', ...env },
    log: (line, stream) => {
      lines.push(line);
      if (stream === 'stderr') stderrLines.push(line);
    },
  });
  await sim.ready;
  return Object.assign(sim, { lines, stderrLines });
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal,
  });
}

export function completion(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, prompt: 'Hello', max_tokens: 5, ...extra };
}

/** Value of an unlabelled-by-us sample line, e.g. metric('vllm:num_requests_running') in Prometheus text. */
export function metricValue(text: string, name: string, labelPart = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(name + '{') && line.includes(labelPart)) {
      const v = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(v)) return v;
    }
  }
  return undefined;
}

export async function scrape(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

export interface ChildSim {
  proc: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  kill(): void;
}

/** Runs main.ts as a child process and waits for its "Starting vLLM API server ... on http://H:P" line. */
export interface SpawnOptions {
  /** Extra node flags before the program, e.g. ['--import', preloadUrl]. */
  nodeFlags?: string[];
  /** Host to bind (default 127.0.0.1); undefined keeps vLLM's default 0.0.0.0 (the twin preload rewrites it). */
  host?: string | undefined;
  /** The URL's host when the log's host is 0.0.0.0 (POD_IP in pod mode). */
  urlHost?: string;
  timeoutMs?: number;
}

export async function spawnSim(
  extraArgs: string[] = [],
  env: Record<string, string> = {},
  opts: SpawnOptions = { host: '127.0.0.1' },
): Promise<ChildSim> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const hostArgs = opts.host ? ['--host', opts.host] : [];
  const proc = spawn(process.execPath, [...programArgs(SIM, opts.nodeFlags), ...BASE_ARGS, ...hostArgs, ...extraArgs], {
    env: { ...process.env, VLLM_SIM_STARTUP_MS: '20', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const kill = (): void => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      kill();
      reject(new Error(`simulator did not start within ${timeoutMs} ms:\n${out}\n${err}`));
    }, timeoutMs);
    const check = (): void => {
      const m = /Starting vLLM API server \d+ on http:\/\/([^\s:]+):(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1] === '0.0.0.0' ? (opts.urlHost ?? '127.0.0.1') : m[1]}:${m[2]}`);
      }
    };
    proc.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited with ${code}:\n${out}\n${err}`));
    });
  });
  // Wait until healthy (bounded).
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`${url}/health`).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { proc, url, stdout: () => out, stderr: () => err, exited, kill };
}

export function kvConfig(o: Record<string, unknown>): string {
  return JSON.stringify(o);
}

/**
 * The built-in load engine against autocannon on the same local keep-alive server, same run.
 * The server runs in a child process so neither client shares its event loop with it.
 *
 *   npx tsx bench/load-vs-autocannon.ts
 *
 * Prints `name: value unit (baseline: value, ratio: r)` lines; the baseline is autocannon.
 * Goal (issue 7): throughput ratio >= 0.8 while recording every request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';
import { runLoad } from '../load/builtin/engine.ts';
import { formatFigure, type Outcome } from './figures.ts';

const SERVER = `
const http = require('node:http');
const body = JSON.stringify({ id: 'cmpl-bench', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' } }] });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
});
server.keepAliveTimeout = 30000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

interface Measured {
  rps: number;
  p50Ms: number;
}

async function startServer(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  return { url: `http://127.0.0.1:${chunk.toString().trim()}`, child };
}

const REQUEST = {
  method: 'POST',
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json' },
  body: { model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', messages: [{ role: 'user', content: 'hello-{{i}}' }], max_tokens: 8 },
};

async function builtin(url: string, requests: number, concurrency: number): Promise<Measured> {
  const result = await runLoad({ requests, concurrency, timeoutMs: 30_000, request: REQUEST }, { baseUrl: url });
  const accounted = result.records.filter((r) => r.status !== undefined || r.error !== undefined).length;
  if (accounted !== requests) throw new Error(`builtin recorded ${accounted} of ${requests} requests`);
  return { rps: result.summary.throughput, p50Ms: result.summary.latencyMs.p50 };
}

async function autocannon(url: string, requests: number, concurrency: number): Promise<Measured> {
  const name: string = 'autocannon';
  const mod = (await import(name)) as { default: (opts: Record<string, unknown>) => Promise<AutocannonResult> };
  const result = await mod.default({
    url: `${url}${REQUEST.path}`,
    method: 'POST',
    headers: REQUEST.headers,
    body: JSON.stringify({ ...REQUEST.body, messages: [{ role: 'user', content: 'hello-1' }] }),
    connections: concurrency,
    pipelining: 1,
    amount: requests,
    // With `amount`, autocannon stops at its next sample tick (1 s by default), so its own duration rounds the
    // baseline to requests / whole seconds; a 5 ms tick times it as closely as the engine times itself.
    sampleInt: 5,
  });
  return { rps: result.requests.total / (result.duration || 1), p50Ms: result.latency.p50 };
}

interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  latency: { p50: number };
}

/** Figure 2: requests/s (goal: ratio >= 0.8 while recording every request) and p50 of each, per concurrency. */
export async function loadFigures(
  sizes: readonly (readonly [number, number])[] = [
    [12, 10_000],
    [200, 20_000],
  ],
): Promise<Outcome[]> {
  const { url, child } = await startServer();
  const outcomes: Outcome[] = [];
  try {
    for (const [concurrency, requests] of sizes) {
      await builtin(url, 1000, concurrency); // warm both paths (JIT, connections) before measuring
      await autocannon(url, 1000, concurrency);
      const base = await autocannon(url, requests, concurrency);
      const ours = await builtin(url, requests, concurrency);
      outcomes.push({
        name: `load builtin vs autocannon c${concurrency} throughput`,
        value: ours.rps,
        unit: 'req/s',
        baseline: base.rps,
        better: 'higher',
        goal: { on: 'ratio', op: '>=', target: 0.8 },
        note: `${requests} requests, every one recorded`,
      });
      outcomes.push({
        name: `load builtin vs autocannon c${concurrency} p50 latency`,
        value: ours.p50Ms,
        unit: 'ms',
        // autocannon reports whole milliseconds, so its p50 is coarse (a 0 has no ratio).
        baseline: base.p50Ms,
        better: 'lower',
      });
    }
  } finally {
    child.kill('SIGTERM');
  }
  return outcomes;
}

export async function runBench(out: (text: string) => void = (t) => process.stdout.write(`${t}\n`)): Promise<void> {
  for (const o of await loadFigures()) out(formatFigure(o));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runBench().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

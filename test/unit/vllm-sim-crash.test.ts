import { expect, test } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import { Faults } from '../../twin/sims/vllm/faults.ts';
import { sendKvBlock } from '../../twin/sims/vllm/kv/p2p.ts';
import { completion, kvConfig, metricValue, post, scrape, spawnSim, startSim, type ChildSim } from './vllm-sim-helpers.ts';

const TRACEBACK_IN_ORDER = [
  /^\(EngineCore_DP0 pid=\d+\) ERROR .* \[core\.py:\d+\] EngineCore encountered a fatal error\.$/,
  /^\(EngineCore_DP0 pid=\d+\) ERROR .* Traceback \(most recent call last\):$/,
  /File ".*\/vllm\/v1\/engine\/core\.py", line \d+, in run_engine_core$/,
  /File ".*\/vllm\/v1\/engine\/core\.py", line \d+, in run_busy_loop$/,
  /File ".*\/vllm\/v1\/engine\/core\.py", line \d+, in _process_engine_step$/,
  /File ".*\/vllm\/v1\/engine\/core\.py", line \d+, in step_with_batch_queue$/,
  /File ".*\/vllm\/v1\/executor\/uniproc_executor\.py", line \d+, in collective_rpc$/,
  /File ".*\/vllm\/worker\/worker_base\.py", line \d+, in execute_model$/,
  /File ".*\/vllm\/v1\/worker\/gpu_worker\.py", line \d+, in execute_model$/,
  /File ".*\/vllm\/v1\/worker\/gpu_model_runner\.py", line 3333, in execute_model$/,
  /File ".*\/vllm\/v1\/worker\/gpu_model_runner\.py", line 1474, in _prepare_inputs$/,
  /torch\.index_select\($/,
  /^\(EngineCore_DP0 pid=\d+\) ERROR .* IndexError: index out of range in self$/,
  /^\(APIServer pid=1\) ERROR .* AsyncLLM output_handler failed\.$/,
  /^\(APIServer pid=1\) ERROR .* vllm\.v1\.engine\.exceptions\.EngineDeadError: EngineCore encountered an issue\. See stack trace \(above\) for the root cause\.$/,
];

/** Index of each pattern's first match after the previous one's, or -1. */
function matchInOrder(lines: string[], patterns: RegExp[]): number[] {
  const at: number[] = [];
  let from = 0;
  for (const p of patterns) {
    const i = lines.findIndex((l, k) => k >= from && p.test(l));
    at.push(i);
    if (i >= 0) from = i + 1;
  }
  return at;
}

async function waitExit(child: ChildSim, ms: number): Promise<number | null | 'timeout'> {
  return Promise.race([child.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

test.describe('decode IndexError fault (child process)', () => {
  test('afterRequests: the next request kills the engine: traceback, in-flight requests fail, /health 503, exit 1', async () => {
    const child = await spawnSim([], {
      VLLM_SIM_FAULTS: JSON.stringify({ indexError: { afterRequests: 2 } }),
      VLLM_SIM_ITL_MS: '20',
      VLLM_SIM_DEATH_EXIT_MS: '3000', // wide window to observe /health 503 before the exit
    });
    try {
      expect((await post(`${child.url}/v1/completions`, completion(), { 'X-Request-Id': 'ok-1' })).status).toBe(200);
      // Request 2: a long stream that is still in flight when request 3 crashes the engine.
      const long = await post(`${child.url}/v1/completions`, completion({ max_tokens: 1000, stream: true }), { 'X-Request-Id': 'long-2' });
      expect(long.status).toBe(200);
      const longBody = long.text().then(
        (t) => t,
        () => 'cut',
      );
      await expect.poll(async () => metricValue(await scrape(child.url), 'vllm:num_requests_running')).toBe(1);
      const crash = await post(`${child.url}/v1/completions`, completion(), { 'X-Request-Id': 'crash-3' });
      // launcher.py's EngineDeadError handler: a bare 500, no body
      expect(crash.status).toBe(500);
      expect(await crash.text()).toBe('');
      expect((await fetch(`${child.url}/health`)).status).toBe(503);
      // the stream in flight ends with vLLM's streaming error event, then [DONE]
      const events = (await longBody).split('\n\n').filter(Boolean);
      expect(events.at(-1)).toBe('data: [DONE]');
      expect(JSON.parse(events.at(-2)!.replace(/^data: /, ''))).toEqual({
        error: {
          message: 'EngineCore encountered an issue. See stack trace (above) for the root cause.',
          type: 'BadRequestError',
          param: null,
          code: 400,
        },
      });
      expect(await waitExit(child, 10_000)).toBe(1);

      const errLines = child.stderr().split('\n');
      expect(matchInOrder(errLines, TRACEBACK_IN_ORDER).every((i) => i >= 0)).toBe(true);
      const summary = errLines.find((l) => l.includes('in-flight request ids:'));
      expect(summary).toContain('request counter: 3');
      expect(summary).toMatch(/in-flight request ids: .*long-2/);
      expect(summary).toMatch(/in-flight request ids: .*crash-3/);
    } finally {
      child.kill();
    }
  });

  test("the logged request counter is the crashing request's, not the count admitted by the time its step fails", async () => {
    const child = await spawnSim([], {
      VLLM_SIM_FAULTS: JSON.stringify({ indexError: { afterRequests: 0 } }),
      VLLM_SIM_TTFT_MS: '800', // request 1's prefill step is long enough for 2 and 3 to be admitted meanwhile
      VLLM_SIM_DEATH_EXIT_MS: '3000',
    });
    try {
      const first = post(`${child.url}/v1/completions`, completion(), { 'X-Request-Id': 'crash-1' });
      await expect.poll(async () => metricValue(await scrape(child.url), 'vllm:num_requests_running')).toBe(1);
      const later = [2, 3].map((i) =>
        post(`${child.url}/v1/completions`, completion(), { 'X-Request-Id': `later-${i}` }).catch(() => null),
      );
      expect((await first).status).toBe(500);
      await Promise.all(later);
      const summary = child
        .stderr()
        .split('\n')
        .find((l) => l.includes('in-flight request ids:'));
      expect(summary).toContain('request counter: 1;');
      expect(summary).toMatch(/in-flight request ids: .*later-/);
    } finally {
      child.kill();
    }
  });

  test('probability + seed: two runs crash at the same request, the one the seeded PRNG predicts', async () => {
    const faults = { indexError: { probability: 0.15, seed: 20240611 } };
    const predicted = (() => {
      const f = new Faults(faults);
      for (let i = 0; i < 200; i++) if (f.admitToEngine().crash) return i + 1;
      return -1;
    })();
    expect(predicted).toBeGreaterThan(0);
    expect(predicted).toBeLessThanOrEqual(40);

    const run = async (): Promise<{ failedAt: number; logged: string | undefined; code: number | null | 'timeout' }> => {
      const child = await spawnSim([], { VLLM_SIM_FAULTS: JSON.stringify(faults), VLLM_SIM_LATENCY_SCALE: '0' });
      try {
        let failedAt = -1;
        for (let i = 1; i <= 40; i++) {
          const r = await post(`${child.url}/v1/completions`, completion({ max_tokens: 2 }), { 'X-Request-Id': `seq-${i}` });
          await r.text();
          if (r.status !== 200) {
            failedAt = i;
            break;
          }
        }
        const code = await waitExit(child, 10_000);
        const logged = /request counter: (\d+)/.exec(child.stderr())?.[1];
        return { failedAt, logged, code };
      } finally {
        child.kill();
      }
    };
    const a = await run();
    const b = await run();
    expect(a).toEqual({ failedAt: predicted, logged: String(predicted), code: 1 });
    expect(b).toEqual(a);
  });

  test('SIGTERM: stops with in-flight work and exits 0', async () => {
    const child = await spawnSim([], { VLLM_SIM_ITL_MS: '50' });
    try {
      const inflight = post(`${child.url}/v1/completions`, completion({ max_tokens: 1000 })).then(
        (r) => r.status,
        () => 'cut',
      );
      await expect.poll(async () => metricValue(await scrape(child.url), 'vllm:num_requests_running')).toBe(1);
      child.proc.kill('SIGTERM');
      expect(await waitExit(child, 5_000)).toBe(0);
      expect(await inflight).toBe('cut');
      expect(child.stdout()).toContain('Finished server process');
    } finally {
      child.kill();
    }
  });
});

test('onAbortedKv: a KV block arriving for a request the client aborted kills the engine', async () => {
  const cfg = kvConfig({
    kv_connector: 'P2pNcclConnector',
    kv_role: 'kv_consumer',
    kv_rank: 1,
    kv_parallel_size: 2,
    kv_ip: '127.0.0.1',
    kv_port: 0,
  });
  const decode = await startSim(['--kv-transfer-config', cfg], {
    VLLM_SIM_FAULTS: JSON.stringify({ indexError: { onAbortedKv: true } }),
  });
  try {
    // A block for a request nobody aborted is fine.
    await sendKvBlock('127.0.0.1', decode.kvPort ?? 0, { requestId: 'early', promptTokens: 2, size: 512 }, 2000);
    expect(decode.state()).toBe('ready');

    const id = `___prefill_addr_127.0.0.1:1___decode_addr_127.0.0.1:${decode.kvPort}_${randomUUID().replace(/-/g, '')}`;
    const ac = new AbortController();
    const aborted = post(`${decode.url}/v1/completions`, completion(), { 'X-Request-Id': id }, ac.signal).catch((e: unknown) => e);
    // scheduled (running), its worker blocked in recv_tensor
    await expect.poll(async () => metricValue(await scrape(decode.url), 'vllm:num_requests_running')).toBe(1);
    ac.abort();
    expect(await aborted).toBeInstanceOf(Error);
    await expect.poll(async () => metricValue(await scrape(decode.url), 'vllm:num_requests_running')).toBe(0);
    expect(decode.state()).toBe('ready');

    await sendKvBlock('127.0.0.1', decode.kvPort ?? 0, { requestId: id, promptTokens: 2, size: 512 }, 2000);
    expect(await decode.died).toContain(`aborted request ${id}`);
    expect(decode.state()).toBe('dead');
    expect((await fetch(`${decode.url}/health`)).status).toBe(503);
    expect((await post(`${decode.url}/v1/completions`, completion())).status).toBe(500);
    expect(matchInOrder(decode.stderrLines, TRACEBACK_IN_ORDER).every((i) => i >= 0)).toBe(true);
  } finally {
    await decode.stop();
  }
});

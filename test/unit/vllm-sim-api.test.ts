import { expect, test } from '@playwright/test';
import { startVllmSim } from '../../twin/sims/vllm/sim.ts';
import { BASE_ARGS, completion, metricValue, MODEL, post, scrape, startSim, type InProcessSim } from './vllm-sim-helpers.ts';

test('--enable-request-id-headers echoes X-Request-Id (or the generated id) in the response', async () => {
  const sim = await startSim(['--enable-request-id-headers']);
  try {
    const r = await post(`${sim.url}/v1/completions`, completion(), { 'X-Request-Id': 'req-9' });
    expect(r.headers.get('x-request-id')).toBe('req-9');
    await r.text();
  } finally {
    await sim.stop();
  }
});

test.describe('vLLM simulator OpenAI API', () => {
  let sim: InProcessSim;
  test.beforeAll(async () => {
    sim = await startSim();
  });
  test.afterAll(async () => {
    await sim?.stop();
  });

  test('non-stream completion carries cmpl-<X-Request-Id>, choices and usage; no X-Request-Id response header by default', async () => {
    const r = await post(`${sim.url}/v1/completions`, completion(), { 'X-Request-Id': 'req-123' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-request-id')).toBeNull();
    const b = (await r.json()) as Record<string, any>;
    expect(b).toMatchObject({ id: 'cmpl-req-123', object: 'text_completion', model: MODEL });
    expect(typeof b.created).toBe('number');
    expect(b.choices).toHaveLength(1);
    expect(b.choices[0]).toMatchObject({ index: 0, finish_reason: 'length' });
    expect(b.choices[0].text.trim().split(/\s+/)).toHaveLength(5);
    expect(b.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5, total_tokens: 7 });
  });

  test('chat completion without X-Request-Id gets a random chatcmpl- id; no max_tokens ends with stop', async () => {
    const r = await post(`${sim.url}/v1/chat/completions`, { model: MODEL, messages: [{ role: 'user', content: 'hi there' }] });
    expect(r.status).toBe(200);
    const b = (await r.json()) as Record<string, any>;
    expect(b.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(b.object).toBe('chat.completion');
    expect(b.choices[0].message.role).toBe('assistant');
    expect(b.choices[0].message.content.length).toBeGreaterThan(0);
    expect(b.choices[0].finish_reason).toBe('stop');
    expect(b.usage.completion_tokens).toBe(16);
  });

  test('chat with X-Request-Id answers chatcmpl-<id>; max_completion_tokens wins', async () => {
    const r = await post(
      `${sim.url}/v1/chat/completions`,
      { model: MODEL, messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 2, max_tokens: 7 },
      { 'X-Request-Id': '___prefill_addr_a___decode_addr_b_abc123' },
    );
    const b = (await r.json()) as Record<string, any>;
    expect(b.id).toBe('chatcmpl-___prefill_addr_a___decode_addr_b_abc123');
    expect(b.usage.completion_tokens).toBe(2);
  });

  test('SSE stream: data chunks, finish_reason on the last token, usage chunk, [DONE]', async () => {
    const r = await post(
      `${sim.url}/v1/completions`,
      completion({ stream: true, max_tokens: 4, stream_options: { include_usage: true } }),
      {
        'X-Request-Id': 's1',
      },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/event-stream');
    const text = await r.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.replace(/^data: /, '')) as Record<string, any>);
    const tokenChunks = chunks.filter((c) => c.choices.length > 0);
    expect(tokenChunks).toHaveLength(4);
    expect(tokenChunks.every((c) => c.id === 'cmpl-s1')).toBe(true);
    expect(tokenChunks.slice(0, 3).every((c) => c.choices[0].finish_reason === null)).toBe(true);
    expect(tokenChunks[3]?.choices[0].finish_reason).toBe('length');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 4, prompt_tokens: 2, total_tokens: 6 } });
  });

  test('chat stream starts with the assistant role and has no usage without include_usage', async () => {
    const r = await post(`${sim.url}/v1/chat/completions`, {
      model: MODEL,
      messages: [{ role: 'user', content: 'x' }],
      max_tokens: 2,
      stream: true,
    });
    const events = (await r.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice(6)) as Record<string, any>);
    expect(chunks[0]?.choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((c) => c.object)).toEqual(Array(3).fill('chat.completion.chunk'));
    expect(chunks.some((c) => 'usage' in c)).toBe(false);
  });

  test('prompt + max_tokens over --max-model-len is vLLM 400; wrong model is 404', async () => {
    const r = await post(`${sim.url}/v1/completions`, completion({ prompt: 'y'.repeat(8000), max_tokens: 100 }));
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({
      error: {
        message:
          "This model's maximum context length is 2048 tokens. However, you requested 2100 tokens (2000 in the messages, 100 in the completion). Please reduce the length of the messages or completion.",
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
    });
    const nf = await post(`${sim.url}/v1/completions`, completion({ model: 'nope' }));
    expect(nf.status).toBe(404);
    expect(await nf.json()).toMatchObject({ error: { type: 'NotFoundError', code: 404 } });
    const bad = await fetch(`${sim.url}/v1/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
  });

  test('/v1/models lists the served model with max_model_len; /health is 200 and empty', async () => {
    const m = (await (await fetch(`${sim.url}/v1/models`)).json()) as Record<string, any>;
    expect(m.object).toBe('list');
    expect(m.data[0]).toMatchObject({ id: MODEL, object: 'model', owned_by: 'vllm', max_model_len: 2048 });
    const h = await fetch(`${sim.url}/health`);
    expect(h.status).toBe(200);
    expect(await h.text()).toBe('');
  });

  test('metrics: vllm: names with model_name, moving after requests', async () => {
    const before = await scrape(sim.url);
    for (const name of [
      'vllm:num_requests_running',
      'vllm:num_requests_waiting',
      'vllm:kv_cache_usage_perc',
      'vllm:time_to_first_token_seconds_bucket',
      'vllm:inter_token_latency_seconds_bucket',
      'vllm:e2e_request_latency_seconds_bucket',
      'vllm:request_success_total',
      'vllm:prompt_tokens_total',
      'vllm:generation_tokens_total',
      'vllm:prefix_cache_queries_total',
      'vllm:prefix_cache_hits_total',
      'vllm:external_prefix_cache_queries_total',
      'vllm:external_prefix_cache_hits_total',
      'vllm:kv_transfer_hits_total',
      'vllm:kv_transfer_misses_total',
    ]) {
      expect(before, name).toContain(`${name}{`);
    }
    expect(before).toContain(`vllm:num_requests_running{model_name="${MODEL}",engine="0"}`);
    // deprecated since v0.10 and not exported by v0.15.0: a scraper that asks for it finds nothing
    expect(before).not.toContain('vllm:gpu_cache_usage_perc');
    const gen0 = metricValue(before, 'vllm:generation_tokens_total') ?? -1;
    const ok0 = metricValue(before, 'vllm:request_success_total', 'finished_reason="length"') ?? -1;
    const e2e0 = metricValue(before, 'vllm:e2e_request_latency_seconds_count') ?? -1;
    await Promise.all([1, 2, 3].map(() => post(`${sim.url}/v1/completions`, completion({ max_tokens: 3 })).then((r) => r.text())));
    const after = await scrape(sim.url);
    expect(metricValue(after, 'vllm:generation_tokens_total')).toBe(gen0 + 9);
    expect(metricValue(after, 'vllm:request_success_total', 'finished_reason="length"')).toBe(ok0 + 3);
    expect(metricValue(after, 'vllm:e2e_request_latency_seconds_count')).toBe(e2e0 + 3);
  });
});

test.describe('vLLM simulator engine model', () => {
  test('/health is 503 while starting, then 200', async () => {
    const sim = await startVllmSim({ args: BASE_ARGS, host: '127.0.0.1', env: { VLLM_SIM_STARTUP_MS: '400' }, log: () => {} });
    try {
      expect((await fetch(`${sim.url}/health`)).status).toBe(503);
      expect((await post(`${sim.url}/v1/completions`, completion())).status).toBe(503);
      await sim.ready;
      expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });

  test('with all slots busy, requests wait: running and waiting gauges show it, kv usage rises', async () => {
    const sim = await startSim([], { VLLM_SIM_MAX_NUM_SEQS: '2', VLLM_SIM_ITL_MS: '50', VLLM_SIM_KV_CAPACITY_TOKENS: '1000' });
    try {
      // 30 tokens at 50 ms: the first two hold their slots ~1.5 s, so a scrape that a busy box delays still sees 2 + 3
      const reqs = Array.from({ length: 5 }, () =>
        post(`${sim.url}/v1/completions`, completion({ prompt: 'p'.repeat(400), max_tokens: 30 })),
      );
      let seen = { running: 0, waiting: 0, usage: 0 };
      for (let i = 0; i < 75 && !(seen.running === 2 && seen.waiting === 3); i++) {
        const m = await scrape(sim.url);
        seen = {
          running: metricValue(m, 'vllm:num_requests_running') ?? -1,
          waiting: metricValue(m, 'vllm:num_requests_waiting') ?? -1,
          usage: metricValue(m, 'vllm:kv_cache_usage_perc') ?? -1,
        };
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen.running).toBe(2);
      expect(seen.waiting).toBe(3);
      expect(seen.usage).toBeGreaterThan(0.1);
      const statuses = await Promise.all(reqs.map(async (r) => (await r).status));
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      const idle = await scrape(sim.url);
      expect(metricValue(idle, 'vllm:num_requests_running')).toBe(0);
      expect(metricValue(idle, 'vllm:num_requests_waiting')).toBe(0);
      expect(metricValue(idle, 'vllm:kv_cache_usage_perc')).toBe(0);
    } finally {
      await sim.stop();
    }
  });

  test('a client disconnect aborts the request and frees its slot for a waiting one', async () => {
    const sim = await startSim([], { VLLM_SIM_MAX_NUM_SEQS: '1', VLLM_SIM_ITL_MS: '100' });
    try {
      const ac = new AbortController();
      const long = post(`${sim.url}/v1/completions`, completion({ max_tokens: 200 }), {}, ac.signal).catch((e: unknown) => e);
      await expect.poll(async () => metricValue(await scrape(sim.url), 'vllm:num_requests_running')).toBe(1);
      const short = post(`${sim.url}/v1/completions`, completion({ max_tokens: 2 }));
      await expect.poll(async () => metricValue(await scrape(sim.url), 'vllm:num_requests_waiting')).toBe(1);
      ac.abort();
      expect(await long).toBeInstanceOf(Error);
      // 200 tokens at 100 ms would take 20 s; the waiting request only finishes this soon because the slot was freed.
      const r = await short;
      expect(r.status).toBe(200);
      const m = await scrape(sim.url);
      expect(metricValue(m, 'vllm:num_requests_running')).toBe(0);
      expect(metricValue(m, 'vllm:request_success_total', 'finished_reason="length"')).toBe(1);
    } finally {
      await sim.stop();
    }
  });
});

test('the periodic engine stats line appears after activity, with running/waiting counts', async () => {
  const sim = await startSim([], { VLLM_SIM_STATS_INTERVAL_MS: '100' });
  try {
    expect((await post(`${sim.url}/v1/completions`, completion({ max_tokens: 4 }))).status).toBe(200);
    await expect
      .poll(() => sim.lines.find((l) => l.includes('Engine 000: Avg prompt throughput:')))
      .toMatch(
        /^\(APIServer pid=1\) INFO .* \[loggers\.py:\d+\] Engine 000: Avg prompt throughput: [\d.]+ tokens\/s, Avg generation throughput: [\d.]+ tokens\/s, Running: \d+ reqs, Waiting: \d+ reqs, GPU KV cache usage: [\d.]+%/,
      );
  } finally {
    await sim.stop();
  }
});

test.describe('vLLM simulator faults (runtime admin endpoint)', () => {
  test('error-rate fault answers the configured status; GET shows it; clearing restores 200', async () => {
    const sim = await startSim();
    try {
      const set = await post(`${sim.url}/_twin/faults`, { errorRate: { status: 429, rate: 1 } });
      expect(set.status).toBe(200);
      expect(((await (await fetch(`${sim.url}/_twin/faults`)).json()) as any).faults).toEqual({ errorRate: { status: 429, rate: 1 } });
      const r = await post(`${sim.url}/v1/completions`, completion());
      expect(r.status).toBe(429);
      expect(await r.json()).toMatchObject({ error: { code: 429 } });
      await post(`${sim.url}/_twin/faults`, { errorRate: { status: 503, rate: 0.5 }, seed: 3 });
      const statuses = await Promise.all(
        Array.from({ length: 20 }, async () => (await post(`${sim.url}/v1/completions`, completion({ max_tokens: 1 }))).status),
      );
      expect(statuses).toContain(503);
      expect(statuses).toContain(200);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      await post(`${sim.url}/_twin/faults`, {});
      expect((await post(`${sim.url}/v1/completions`, completion())).status).toBe(200);
      const bad = await post(`${sim.url}/_twin/faults`, { errorRate: { status: 418, rate: 1 } });
      expect(bad.status).toBe(400);
    } finally {
      await sim.stop();
    }
  });

  test('env VLLM_SIM_FAULTS hang: never answers and drops the connection after maxMs', async () => {
    const sim = await startSim([], { VLLM_SIM_FAULTS: JSON.stringify({ hang: { rate: 1, maxMs: 300 } }) });
    try {
      const hung = await post(`${sim.url}/v1/completions`, completion()).then(
        (r) => `status ${r.status}`,
        () => 'dropped',
      );
      expect(hung).toBe('dropped');
      expect((await fetch(`${sim.url}/health`)).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });

  test('addLatencyMs holds the answer back (a 60 s delay is still pending when the client gives up)', async () => {
    const sim = await startSim([], { VLLM_SIM_FAULTS: JSON.stringify({ addLatencyMs: 60_000 }) });
    try {
      const outcome = await post(`${sim.url}/v1/completions`, completion(), {}, AbortSignal.timeout(500)).then(
        (r) => `status ${r.status}`,
        (e: Error) => e.name,
      );
      expect(outcome).toBe('TimeoutError');
      await post(`${sim.url}/_twin/faults`, {});
      expect((await post(`${sim.url}/v1/completions`, completion())).status).toBe(200);
    } finally {
      await sim.stop();
    }
  });

  test('invalid VLLM_SIM_FAULTS fails the start with one clear message', async () => {
    await expect(
      startVllmSim({ args: BASE_ARGS, host: '127.0.0.1', env: { VLLM_SIM_FAULTS: '{"errorRate":{"rate":2}}' }, log: () => {} }),
    ).rejects.toThrow(/invalid faults: errorRate/);
  });
});

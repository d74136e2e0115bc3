import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { runLoad } from '../../load/builtin/engine.ts';
import { runK6 } from '../../load/k6/runner.ts';
import { runK6Script } from '../../load/k6-runtime/run.ts';
import { generateK6Script, scriptPlanOf, writeK6Script } from '../../load/k6-script/generate.ts';
import { fromSuiteLoad } from '../../load/plan.ts';
import { isCutAfterHeaders, type LoadResult } from '../../load/result.ts';
import { loadSuite } from '../../suites/loader.ts';
import type { Suite } from '../../suites/schema.ts';
import { startObservingServer, type ObservingServer } from './load-helpers.ts';

type Load = NonNullable<Suite['spec']['load']>;
const root = path.resolve(import.meta.dirname, '../..');
const withStandIn = { ...process.env, PATH: `${path.join(root, 'test/bin')}${path.delimiter}${process.env['PATH'] ?? ''}` };

const shipped = fs
  .readdirSync(path.join(root, 'suites'))
  .filter((f) => f.endsWith('.suite.yaml'))
  .map((f) => loadSuite(path.join(root, 'suites', f)).suite)
  .filter((s) => s.spec.load !== undefined && s.spec.load.script === undefined);

/** What the server saw of a request, in a form both engines must agree on. */
function seen(server: ObservingServer): string[] {
  return server.received.map((r) => `${r.path} ${r.headers['content-type']} kv=${r.headers['x-kv-backend'] ?? '-'} ${r.body}`).sort();
}

/** The same load, shortened for a unit test: an open model runs 3 s instead of its 30-40 s. */
function shortened(load: Load): Load {
  return load.rate !== undefined ? { ...load, duration: 3000 } : load;
}

test('the generated script maps the closed model to shared-iterations and the open model to constant-arrival-rate', () => {
  const closed = scriptPlanOf(
    {
      requests: 60,
      concurrency: 12,
      timeout: 35_000,
      request: { body: { model: 'm', prompt: 'p-{{i}}' } },
      thresholds: { http_req_failed: ['rate<0.01'] },
    },
    's',
  );
  expect(closed.options).toEqual({
    scenarios: { load: { executor: 'shared-iterations', vus: 12, iterations: 60, maxDuration: '30m' } },
    thresholds: { http_req_failed: ['rate<0.01'] },
  });
  expect(closed.timeout).toBe('35s');
  expect(closed.requests).toEqual([
    {
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: '{"model":"m","prompt":"p-{{i}}"}',
    },
  ]);
  const open = scriptPlanOf(
    { rate: 2.5, duration: 40_000, maxInFlight: 12, timeout: 10_000, stream: true, request: { body: { model: 'm' } } },
    's',
  );
  // k6's rate is an integer: 2.5/s is 2500 per 1000 s; gracefulStop = the builtin engine's wait (timeout + 5 s)
  expect(open.options).toEqual({
    scenarios: {
      load: {
        executor: 'constant-arrival-rate',
        rate: 2500,
        timeUnit: '1000s',
        duration: '40s',
        preAllocatedVUs: 12,
        maxVUs: 12,
        gracefulStop: '15s',
      },
    },
  });
  expect(open.requests[0]?.body).toBe('{"model":"m","stream":true}');
  expect(open.stream).toBe(true);
});

test('what the generated script cannot express is refused up front in one line', () => {
  expect(() => scriptPlanOf({ requests: 4, warmup: 2 }, 's')).toThrow(UserError);
  expect(() => scriptPlanOf({ requests: 4, warmup: 2 }, 's')).toThrow(/^load\.warmup is not compiled to k6 scripts/);
});

test('the script is plain JS importing only k6 modules, with the plan in it', () => {
  // every shipped suite has a declarative load (none a k6 script): each gets a test below
  expect(shipped.map((s) => s.metadata.name).sort()).toEqual([
    'ab-static-routing',
    'chaos-decode-kill',
    'chaos-decode-kill-skew',
    'chaos-epp-restart',
    'chaos-proxy-kill',
    'proxy-performance',
    'proxy-performance-by-backend',
    'repro-decode-index-error',
  ]);
  const load = shipped.find((s) => s.metadata.name === 'ab-static-routing')?.spec.load;
  expect(load).toBeDefined();
  const js = generateK6Script(load, 'ab-static-routing');
  const imports = [...js.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
  expect(imports.sort()).toEqual(['k6/execution', 'k6/http', 'k6/metrics']);
  expect(js).not.toMatch(/__PD_HARNESS_PLAN__|: Options|as SuiteScriptRequest/);
  expect(js).toContain('"variant": "nvlink"');
  expect(js).toContain('export {');
});

test.describe('every shipped suite load compiles to a script the built-in k6 runtime runs as the builtin engine would', () => {
  test.describe.configure({ timeout: 90_000 });
  let server: ObservingServer;
  test.beforeEach(async () => {
    server = await startObservingServer();
  });
  test.afterEach(async () => {
    await server.close();
  });

  for (const suite of shipped) {
    test(`${suite.metadata.name}: same requests on the wire, same records`, async () => {
      const load = shortened(suite.spec.load!);
      const builtin = await runLoad(fromSuiteLoad(load).plan, { baseUrl: server.url });
      const byBuiltin = seen(server);
      server.received.length = 0;
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-script-'));
      let runtime: LoadResult;
      try {
        const { file } = writeK6Script(load, suite.metadata.name, dir);
        runtime = await runK6Script({ script: file, gatewayUrl: server.url });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      const expected = load.requests ?? Math.floor(((load.rate ?? 0) * 3000) / 1000);
      expect(builtin.records).toHaveLength(expected);
      expect(runtime.records).toHaveLength(expected);
      // same paths, headers and bodies ({{i}} and {{variant}} filled in the same way), request by request
      expect(seen(server)).toEqual(byBuiltin);
      expect(runtime.summary.byStatus).toEqual(builtin.summary.byStatus);
      const variants = (r: LoadResult) => r.records.map((x) => x.tags?.['variant'] ?? '-').sort();
      expect(variants(runtime)).toEqual(variants(builtin));
    });
  }
});

test.describe('engine k6 on a generated script (stand-in k6 on PATH): records carry what the criteria read', () => {
  let server: ObservingServer;
  let dir: string;
  test.beforeEach(async () => {
    server = await startObservingServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-script-'));
  });
  test.afterEach(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('request numbers, variants, response ids and error bodies come back through --out json', async () => {
    const load = {
      requests: 6,
      concurrency: 2,
      timeout: 5000,
      request: { path: '/v1/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: 'hi-{{variant}}-{{i}}' }] } },
      variants: [{ name: 'ok' }, { name: 'full', path: '/status/429' }],
    };
    const { file } = writeK6Script(load, 'two-variants', dir);
    const result = await runK6({ script: file, gatewayUrl: server.url, processEnv: withStandIn });
    expect(result.engine).toBe('k6');
    expect(result.records.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(result.records.map((r) => r.tags?.['variant'])).toEqual(['ok', 'full', 'ok', 'full', 'ok', 'full']);
    expect(result.records.map((r) => r.status)).toEqual([200, 429, 200, 429, 200, 429]);
    // ids of the 200s as the server wrote them (cmpl-<n>), error bodies of the 429s
    expect(result.records.filter((r) => r.status === 200).every((r) => /^cmpl-\d+$/.test(r.responseId ?? ''))).toBe(true);
    expect(
      result.records.filter((r) => r.status === 429).every((r) => (r.errorBody ?? '').includes('InferencePoolResourceExhausted')),
    ).toBe(true);
    expect(result.records.filter((r) => r.status === 200).every((r) => r.errorBody === undefined && r.bytes > 0)).toBe(true);
    expect(server.received.map((r) => JSON.parse(r.body).messages[0].content).sort()).toEqual(
      ['hi-ok-1', 'hi-full-2', 'hi-ok-3', 'hi-full-4', 'hi-ok-5', 'hi-full-6'].sort(),
    );
  });

  test('a suite threshold crossed: k6 exits 99 and the result carries the failed threshold, as the builtin engine judges it', async () => {
    const load = {
      requests: 4,
      concurrency: 2,
      timeout: 5000,
      request: { path: '/status/503' },
      thresholds: { http_req_failed: ['rate<0.01'], http_reqs: ['count==4'] },
    };
    const { file } = writeK6Script(load, 'all-fail', dir);
    const result = await runK6({ script: file, gatewayUrl: server.url, processEnv: withStandIn });
    const verdicts = (result.thresholds ?? []).map((t) => `${t.metric} ${t.expression} ${t.ok}`).sort();
    expect(verdicts).toEqual(['http_req_failed rate<0.01 false', 'http_reqs count==4 true']);
    expect(result.summary.byStatus).toEqual({ '503': 4 });
  });
});

/** A two-request streaming load to `path` as a generated script, run by the built-in k6 runtime and by k6 --out json. */
async function streamOnBothK6Paths(
  server: ObservingServer,
  dir: string,
  name: string,
  path_: string,
): Promise<{ file: string; results: LoadResult[] }> {
  const load = { requests: 2, concurrency: 1, timeout: 5000, stream: true, request: { path: path_, body: { model: 'm', prompt: 'p' } } };
  const { file } = writeK6Script(load, name, dir);
  const results = [
    await runK6Script({ script: file, gatewayUrl: server.url }),
    await runK6({ script: file, gatewayUrl: server.url, processEnv: withStandIn }),
  ];
  return { file, results };
}

test('a stream cut after its headers is a cut stream on k6 engines too (k6: status 0, first-byte time kept), as on builtin', async () => {
  const server = await startObservingServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-script-'));
  try {
    const { file, results } = await streamOnBothK6Paths(server, dir, 'stream-cut', '/v1/completions-cut');
    for (const result of results) {
      expect(result.records).toHaveLength(2);
      for (const r of result.records) {
        // k6 v2.2.0 request.go: the body error makes the request failed with status 0 (resp.Status is set only
        // without an error); the generated script tells it from "no response" by its waiting time
        expect(r.status).toBeUndefined();
        expect(r.errorMessage).toMatch(/^after the response headers: /);
        expect(isCutAfterHeaders(r)).toBe(true);
      }
    }
    // a request refused before any response is not a cut stream
    const closed = await runK6Script({ script: file, gatewayUrl: 'http://127.0.0.1:9' });
    expect(closed.records.every((r) => r.status === undefined && !isCutAfterHeaders(r))).toBe(true);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a 200 stream carrying an error event fails in the generated script too (built-in k6 runtime and k6 --out json)', async () => {
  const server = await startObservingServer();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-script-'));
  try {
    const { results } = await streamOnBothK6Paths(server, dir, 'stream-error', '/v1/completions-sse-error');
    for (const result of results) {
      expect(result.records).toHaveLength(2);
      for (const r of result.records) {
        expect(r.status).toBe(200);
        expect(r.error).toBe('stream-error');
        expect(r.errorMessage).toBe('BadRequestError 400: EngineCore encountered an issue. See stack trace (above) for the root cause.');
        expect(r.errorBody).toContain('"code": 400');
      }
    }
    // a clean stream is not flagged
    const clean = await streamOnBothK6Paths(server, dir, 'clean-stream', '/sse');
    for (const ok of clean.results)
      expect(ok.records.map((r) => [r.status, r.error])).toEqual([
        [200, undefined],
        [200, undefined],
      ]);
  } finally {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

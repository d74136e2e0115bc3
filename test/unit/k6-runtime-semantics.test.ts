import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { startCorpusServer, type CorpusServer } from './k6-corpus-server.ts';
import { parseSummaryExport } from '../../load/k6/summary-export.ts';
import { constantArrivals, rampingArrivals, rampingTarget } from '../../load/k6-runtime/executors.ts';
import { MetricStore } from '../../load/k6-runtime/metrics-store.ts';
import { deriveScenarios, planScenarios } from '../../load/k6-runtime/options.ts';
import { applyOverrides, MAX_VUS, runK6ScriptReport, type K6RunReport } from '../../load/k6-runtime/run.ts';
import { scanSource } from '../../load/k6-runtime/scan.ts';
import { gjsonGet } from '../../load/k6-runtime/shims/gjson.ts';
import { canonicalHeader, formEncode } from '../../load/k6-runtime/shims/http.ts';
import { goParseUrl } from '../../load/k6-runtime/go-url.ts';
import { handleSummaryData, summaryExport, textSummary } from '../../load/k6-runtime/summary.ts';
import {
  aggregate,
  evaluateThresholds,
  judge,
  parseMetricName,
  parseThresholds,
  validateThreshold,
  type MetricSeries,
} from '../../load/k6-runtime/thresholds.ts';

// Pure rules of the built-in k6 runtime, each with the value k6 v2.2.0 gives and where it comes from.

test('option shortcuts become scenarios as in k6 (lib/executor/execution_config_shortcuts.go)', () => {
  // `vus` alone: shared-iterations with iterations = vus, so {vus: 4} runs 4 iterations
  expect(deriveScenarios({ vus: 4 })).toEqual({ default: { executor: 'shared-iterations', vus: 4, iterations: 4 } });
  // nothing: per-vu-iterations, 1 VU, 1 iteration
  expect(deriveScenarios({})).toEqual({ default: { executor: 'per-vu-iterations', vus: 1, iterations: 1 } });
  // iterations with duration: duration is the shared-iterations maxDuration
  expect(deriveScenarios({ vus: 2, iterations: 6, duration: '1m' })).toEqual({
    default: { executor: 'shared-iterations', vus: 2, iterations: 6, maxDuration: '1m' },
  });
  expect(deriveScenarios({ vus: 3, duration: '10s' })).toEqual({ default: { executor: 'constant-vus', vus: 3, duration: '10s' } });
  // stages: ramping-vus with vus as startVUs
  expect(deriveScenarios({ vus: 2, stages: [{ duration: '1s', target: 5 }] })).toEqual({
    default: { executor: 'ramping-vus', startVUs: 2, stages: [{ duration: '1s', target: 5 }] },
  });
  expect(() => deriveScenarios({ iterations: 3, stages: [{ duration: '1s', target: 1 }] })).toThrow(
    'using `iterations` and `stages` options simultaneously is not allowed',
  );
  expect(() => deriveScenarios({ duration: '1s', scenarios: { a: {} } })).toThrow(
    'using `duration` and `scenarios` options simultaneously is not allowed',
  );
  // `vus` comes before `scenarios` in k6's switch: it overrides them
  expect(deriveScenarios({ vus: 2, scenarios: { a: { executor: 'constant-vus' } } })).toEqual({
    default: { executor: 'shared-iterations', vus: 2, iterations: 2 },
  });
});

test('scenario plans: k6 defaults, exec checked against the exports, unsupported executors and options refused', () => {
  const [p] = planScenarios({ scenarios: { s: { executor: 'shared-iterations' } } }, ['default']);
  // shared-iterations defaults: vus 1, iterations 1, maxDuration 10m, gracefulStop 30s (shared_iterations.go)
  expect(p).toMatchObject({ vus: 1, iterations: 1, maxDurationMs: 600_000, gracefulStopMs: 30_000, exec: 'default' });
  expect(() => planScenarios({ scenarios: { s: { executor: 'shared-iterations', exec: 'nope' } } }, ['default'])).toThrow(
    "scenario s: executor shared-iterations: function 'nope' not found in exports (k6 docs: Scenarios, exec)",
  );
  expect(() => planScenarios({}, ['setup'])).toThrow('scenario default: the script has no exported default function');
  expect(() => planScenarios({ scenarios: { x: { executor: 'externally-controlled' } } }, ['default'])).toThrow(
    'unsupported by the built-in k6 runtime: scenario x: executor externally-controlled',
  );
  expect(() => planScenarios({ rps: 10 }, ['default'])).toThrow(
    'unsupported by the built-in k6 runtime: options.rps (global request rate limit) (k6 docs: Options, rps)',
  );
  expect(() => planScenarios({ scenarios: { s: { executor: 'constant-vus', duration: '1s', rate: 3 } } }, ['default'])).toThrow(
    "scenario s: unknown option 'rate' for executor constant-vus",
  );
});

test('arrival schedules: constant-arrival-rate from t=0; ramping-arrival-rate when the area reaches i (ramping_arrival_rate.go cal)', () => {
  expect(constantArrivals({ rate: 10, timeUnitMs: 1000, durationMs: 1000 })).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
  expect(constantArrivals({ rate: 1, timeUnitMs: 500, durationMs: 2000 })).toEqual([0, 500, 1000, 1500]);
  const ramp = rampingArrivals({
    startRate: 0,
    timeUnitMs: 1000,
    stages: [
      { durationMs: 1000, target: 10 },
      { durationMs: 1000, target: 10 },
    ],
  });
  expect(ramp).toHaveLength(15);
  // first iteration: area 1 of a 0→10/s ramp: t = sqrt(2·1/10 s²) ≈ 447 ms
  expect(ramp[0]).toBeCloseTo(447.2, 1);
  expect(ramp[4]).toBeCloseTo(1000, 6);
  expect(ramp[14]).toBeCloseTo(2000, 6);
  expect(rampingArrivals({ startRate: 5, timeUnitMs: 1000, stages: [{ durationMs: 2000, target: 5 }] })).toEqual([
    200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000,
  ]);
});

test('ramping-vus target: whole VUs, linear between stages, held after the last stage', () => {
  const stages = [
    { durationMs: 1000, target: 4 },
    { durationMs: 1000, target: 0 },
  ];
  expect([0, 249, 250, 999, 1000, 1001, 1500, 1999, 5000].map((t) => rampingTarget(0, stages, t))).toEqual([0, 0, 1, 3, 4, 4, 2, 1, 0]);
});

test('thresholds: empty sinks as k6 judges them (metrics/thresholds.go Run, runNoTaint)', () => {
  const none = new Map<string, MetricSeries>();
  // an empty Rate has no `rate` value: the threshold passes; an empty Trend reads 0; an empty Counter counts 0
  expect(
    evaluateThresholds(
      { checks: ['rate>0.99'], http_req_duration: ['avg>1', 'p(95)<100'], http_reqs: ['count>0', 'count==0'] },
      none,
      10,
    ).map((t) => t.ok),
  ).toEqual([true, false, true, false, true]);
  const [t] = parseThresholds({ x: ['rate<0.5'] });
  expect(t && judge(t, undefined)).toBe(true);
  // NaN is dropped from a Trend (k6 metrics.add refuses it), so it cannot fail max<100
  expect(aggregate({ type: 'trend', values: [NaN, 5] }, 'max', undefined, 1)).toBe(5);
});

test('sub-metric thresholds filter by tags; aggregations must suit the metric type (metrics/thresholds.go Validate)', () => {
  expect(parseMetricName('http_req_duration{ name:"a b", status:200 }')).toEqual({
    base: 'http_req_duration',
    filter: [
      ['name', 'a b'],
      ['status', '200'],
    ],
  });
  expect(parseMetricName('group_duration{group:::pizza}')).toEqual({ base: 'group_duration', filter: [['group', '::pizza']] });
  expect(() => parseMetricName('x{name}')).toThrow('malformed');
  const series: MetricSeries = { type: 'trend', values: [10, 20, 300], tags: [{ name: 'a' }, { name: 'a' }, { name: 'b' }] };
  expect(
    evaluateThresholds({ 'd{name:a}': ['max<100'], 'd{name:b}': ['max<100'], d: ['count==3'] }, new Map([['d', series]]), 1).map(
      (t) => t.ok,
    ),
  ).toEqual([true, false, false]);
  const [bad] = parseThresholds({ http_reqs: ['avg<1'] });
  expect(bad && validateThreshold(bad, 'counter')).toMatch(
    /unsupported aggregation method avg on metric of type counter. supported aggregation methods for this metric are: count, rate/,
  );
  const [missing] = parseThresholds({ nope: ['count<1'] });
  expect(missing && validateThreshold(missing, undefined)).toBe('invalid threshold defined on nope; reason: no metric name "nope" found');
  const [abort] = parseThresholds({ checks: [{ threshold: 'rate>0.9', abortOnFail: true, delayAbortEval: '10s' }] }, () => 10_000);
  expect(abort).toMatchObject({ abortOnFail: true, delayAbortEvalMs: 10_000 });
});

test('Response.json selectors: the GJSON subset (tidwall/gjson SYNTAX.md)', () => {
  const doc = { a: { b: [{ c: 1 }, { c: 2 }, { d: 3 }] }, 'x.y': 'dot', friends: [{ first: 'Dale' }, { first: 'Roger' }] };
  expect(gjsonGet(doc, 'a.b.#')).toBe(3);
  expect(gjsonGet(doc, 'a.b.#.c')).toEqual([1, 2]);
  expect(gjsonGet(doc, 'a.b.1.c')).toBe(2);
  expect(gjsonGet(doc, 'x\\.y')).toBe('dot');
  expect(gjsonGet(doc, 'fri*.1.first')).toBe('Roger');
  expect(gjsonGet(doc, 'a.b.9')).toBeUndefined();
  expect(() => gjsonGet(doc, 'friends.#(first=="Dale").first')).toThrow('unsupported by the built-in k6 runtime: Response.json selector');
  expect(() => gjsonGet(doc, 'friends|@reverse')).toThrow('GJSON queries, modifiers, pipes');
});

test("request URLs as Go's url.Parse reads them (net/url parse, getScheme, unescape), which decides k6's error", () => {
  expect(goParseUrl('http://127.0.0.1:8000/v1?q=%zz#top')).toEqual({ scheme: 'http' }); // the query is kept raw
  // the scheme is lower-cased; digits, '+', '-', '.' may follow its first letter; an opaque URL is not unescaped
  expect(goParseUrl('HTTPS://example.com')).toEqual({ scheme: 'https' });
  expect(goParseUrl('svn+ssh://host/x')).toEqual({ scheme: 'svn+ssh' });
  expect(goParseUrl('mailto:a%zz')).toEqual({ scheme: 'mailto' });
  // any other character before a ':', or no ':': no scheme, a relative path (k6 sends it: Go's transport refuses it)
  expect(goParseUrl('not a url')).toEqual({ scheme: '' });
  expect(goParseUrl('/v1/models')).toEqual({ scheme: '' });
  expect(goParseUrl('x/y:z')).toEqual({ scheme: '' });
  // ... unless its first path segment holds a ':' (k6: invalid URL, 1020)
  expect(goParseUrl('1http://x')).toEqual({ error: 'parse "1http://x": first path segment in URL cannot contain colon' });
  expect(goParseUrl('a b:c')).toEqual({ error: 'parse "a b:c": first path segment in URL cannot contain colon' });
  // a ':' first, a control byte, a '%' that is not an escape in the path or the fragment
  expect(goParseUrl('://x')).toEqual({ error: 'parse "://x": missing protocol scheme' });
  expect(goParseUrl('http://x/\x01')).toEqual({ error: 'parse "http://x/\\x01": net/url: invalid control character in URL' });
  expect(goParseUrl('http://x/a%zzb#f')).toEqual({ error: 'parse "http://x/a%zzb": invalid URL escape "%zz"' });
  expect(goParseUrl('http://x/a%4')).toEqual({ error: 'parse "http://x/a%4": invalid URL escape "%4"' });
  expect(goParseUrl('http://x/#f%g1')).toEqual({ error: 'parse "http://x/#f%g1": invalid URL escape "%g1"' });
});

test('form bodies and header names as k6 gives them', () => {
  // url.Values.Encode: keys sorted, arrays repeated, QueryEscape (space as +, ~ kept, * escaped)
  expect(formEncode({ z: 'a b', a: ['1', 2], s: 'x~*' })).toBe('a=1&a=2&s=x~%2A&z=a+b');
  expect(canonicalHeader('content-type')).toBe('Content-Type');
  expect(canonicalHeader('x-served-by')).toBe('X-Served-By');
  expect(canonicalHeader('WWW-AUTHENTICATE')).toBe('Www-Authenticate');
  expect(canonicalHeader('bad header')).toBe('bad header');
});

test('static scan: refused uses found before the run, with their line; comments do not count', () => {
  expect(scanSource('import http from "k6/http";\n\nres.submitForm({});')).toEqual({
    line: 3,
    message: 'unsupported by the built-in k6 runtime: Response.submitForm() (k6 docs: Response.submitForm)',
  });
  expect(scanSource('// res.clickLink()\n/* http.file(x) */\nconst a = 1;')).toBeUndefined();
  expect(scanSource("http.get(u, { compression: 'gzip' })")?.message).toContain('params.compression');
  expect(scanSource('const s = "http.file(";')?.message).toContain('http.file()');
});

function fakeReport(): K6RunReport {
  const metrics = new MetricStore();
  for (const [v, name] of [
    [1, 'ok'],
    [0, 'ok'],
    [1, 'ok'],
  ] as const)
    metrics.add({ metric: 'checks', type: 'rate', value: v, tags: { group: '', check: name } });
  metrics.add({ metric: 'checks', type: 'rate', value: 1, tags: { group: '::g', check: 'inner' } });
  for (let i = 0; i < 4; i++) metrics.add({ metric: 'http_reqs', type: 'counter', value: 1, tags: { status: i < 3 ? '200' : '500' } });
  metrics.add({ metric: 'http_req_duration', type: 'trend', value: 10, tags: {}, time: true });
  const parsed = parseThresholds({ http_reqs: ['count==4'], 'http_reqs{status:500}': ['count<1'] });
  return {
    result: {
      engine: 'k6-script',
      startedAt: '',
      records: [],
      summary: {
        requests: 0,
        byStatus: {},
        errors: {},
        durationMs: 2000,
        throughput: 0,
        latencyMs: { p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 },
      },
    },
    options: {},
    metrics,
    thresholds: parsed.map((t, i) => ({ metric: t.metric, expression: t.expression, ok: i === 0, parsed: t })),
    iterations: { complete: 4, interrupted: 0, dropped: 0 },
    errors: [],
    durationMs: 2000,
  };
}

test("summary-export: k6's legacy JSON (a threshold's boolean is true when it failed) reads back through the k6 runner's parser", () => {
  const exported = summaryExport(fakeReport()) as {
    metrics: Record<string, Record<string, unknown>>;
    root_group: { checks: Record<string, { passes: number; fails: number }>; groups: Record<string, unknown> };
  };
  expect(exported.metrics['http_reqs']).toMatchObject({ count: 4, rate: 2, thresholds: { 'count==4': false } });
  expect(exported.metrics['http_reqs{status:500}']).toMatchObject({ count: 1, thresholds: { 'count<1': true } });
  expect(exported.metrics['checks']).toEqual({ passes: 3, fails: 1, value: 0.75 });
  expect(exported.root_group.checks['ok']).toMatchObject({ passes: 2, fails: 1, path: '::ok' });
  expect(Object.keys(exported.root_group.groups)).toEqual(['g']);
  const back = parseSummaryExport(JSON.stringify(exported), 'x.json');
  expect(back.thresholds.map((t) => `${t.metric} ${t.expression} ${t.ok}`).sort()).toEqual([
    'http_reqs count==4 true',
    'http_reqs{status:500} count<1 false',
  ]);
  expect(back.httpReqs).toEqual({ count: 4, rate: 2 });
  const data = handleSummaryData(fakeReport()) as {
    metrics: Record<string, { values: Record<string, number>; thresholds?: Record<string, { ok: boolean }> }>;
  };
  expect(data.metrics['checks']?.values).toEqual({ rate: 0.75, passes: 3, fails: 1 });
  expect(data.metrics['http_reqs']?.thresholds).toEqual({ 'count==4': { ok: true } });
  const text = textSummary(fakeReport());
  expect(text).toMatch(/✗ ok\n\s+↳ {2}66% — ✓ 2 \/ ✗ 1/);
  expect(text).toMatch(/✓ http_reqs\.+: 4 2\/s|✓ http_reqs\.+: 4 2\.000000\/s/);
  // a sub-metric line: its 2-space indent before the mark (k6 v2.2.0 internal/js/summary-legacy.js summarizeMetrics)
  expect(text).toMatch(/^ {5}✗ \{ status:500 \}\.+: 1/m);
});

test('CLI-style overrides replace the script execution options as k6 flags do', () => {
  const script = { scenarios: { a: { executor: 'constant-vus', vus: 2, duration: '1m' } }, thresholds: { x: ['count>0'] } };
  // --iterations/--duration replace scenarios/stages (a higher-priority shortcut wins in k6's config consolidation)
  expect(applyOverrides(script, { iterations: 3 })).toEqual({ thresholds: { x: ['count>0'] }, iterations: 3 });
  expect(deriveScenarios(applyOverrides(script, { duration: '5s', vus: 2 }))).toEqual({
    default: { executor: 'constant-vus', vus: 2, duration: '5s' },
  });
  expect(deriveScenarios(applyOverrides({ vus: 1, iterations: 5 }, { vus: 3 }))).toEqual({
    default: { executor: 'shared-iterations', vus: 3, iterations: 5 },
  });
});

test.describe('runs against a loopback server', () => {
  let server: CorpusServer;
  let tmp: string;
  test.beforeEach(async () => {
    server = await startCorpusServer();
    tmp = mkdtempSync(path.join(os.tmpdir(), 'k6-sem-'));
  });
  test.afterEach(async () => {
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test(`more than ${MAX_VUS} VUs is refused before any VU starts`, async () => {
    const script = path.join(tmp, 'many.js');
    writeFileSync(
      script,
      "import http from 'k6/http';\nexport const options = { vus: 1000, duration: '1s' };\nexport default function () { http.get(__ENV.BASE_URL); }\n",
    );
    const err = await runK6ScriptReport({ script, env: { BASE_URL: server.url }, log: () => undefined }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain(`unsupported by the built-in k6 runtime: 1000 VUs (it runs at most ${MAX_VUS}`);
    expect(server.seen).toHaveLength(0);
  });

  test('an unsupported feature reached at run time refuses the run, even when the script catches the error', async () => {
    const script = path.join(tmp, 'query.js');
    writeFileSync(
      script,
      "import http from 'k6/http';\nexport const options = { iterations: 5 };\nexport default function () {\n  const res = http.get(__ENV.BASE_URL + '/api/json');\n  try { res.json('items.#(price>9).name'); } catch (e) { /* ignored */ }\n}\n",
    );
    const err = await runK6ScriptReport({ script, env: { BASE_URL: server.url }, log: () => undefined }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(
      /query\.js: unsupported by the built-in k6 runtime: Response\.json selector 'items\.#\(price>9\)\.name' \(GJSON queries, modifiers, pipes and multipaths\) \(k6 docs: Response\.json\(\), GJSON syntax\)$/,
    );
    expect((err as UserError).exitCode).toBe(2);
    // the first iteration's request went out before the feature was reached; the run stopped there
    expect(server.seen).toHaveLength(1);
  });

  test('an abort signal stops a long run; running iterations are interrupted and the result is incomplete', async () => {
    const script = path.join(tmp, 'long.js');
    writeFileSync(
      script,
      "import http from 'k6/http';\nimport { sleep } from 'k6';\nexport const options = { vus: 1, duration: '10m' };\nexport default function () { http.get(__ENV.BASE_URL + '/get'); sleep(30); }\n",
    );
    const ac = new AbortController();
    const timer = setInterval(() => {
      if (server.seen.length > 0) ac.abort();
    }, 20);
    try {
      const r = await runK6ScriptReport({ script, env: { BASE_URL: server.url }, signal: ac.signal, log: () => undefined });
      expect(r.abort?.kind).toBe('signal');
      expect(r.result.incomplete?.reason).toBe('aborted');
      expect(r.iterations).toEqual({ complete: 0, interrupted: 1, dropped: 0 });
      expect(server.seen).toHaveLength(1);
    } finally {
      clearInterval(timer);
    }
  });
});

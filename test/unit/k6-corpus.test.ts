import { expect, test } from '@playwright/test';
import { createHash, createHmac } from 'node:crypto';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { runK6ScriptReport, type K6RunReport } from '../../load/k6-runtime/run.ts';
import { startCorpusServer, type CorpusServer } from './k6-corpus-server.ts';

/*
 * The corpus: 57 k6 scripts written in the styles of k6's examples, k6-learn, QuickPizza and the k6 docs
 * (test/fixtures/k6/corpus), each run against a loopback server that counts what it receives. Each entry
 * states what k6 gives (requests the server sees, iterations, checks, threshold verdicts) and where that
 * comes from in k6 v2.2.0's source or docs. Refused scripts must be refused before any request.
 */

const dir = path.resolve(import.meta.dirname, '../fixtures/k6/corpus');

interface Ctx {
  r: K6RunReport;
  s: CorpusServer;
  logs: string[];
}

const checks = (r: K6RunReport, name?: string): { passes: number; fails: number } => {
  const series = r.metrics.series.get('checks');
  let passes = 0;
  let fails = 0;
  series?.values.forEach((v, i) => {
    if (name !== undefined && series.tags[i]?.['check'] !== name) return;
    if (v) passes++;
    else fails++;
  });
  return { passes, fails };
};
const verdicts = (r: K6RunReport): Record<string, boolean> =>
  Object.fromEntries(r.thresholds.map((t) => [`${t.metric} ${t.expression}`, t.ok]));
const count = (r: K6RunReport, metric: string): number => r.metrics.count(metric);

interface Case {
  file: string;
  env?: Record<string, string>;
  /** k6 refuses nothing here; the runtime refuses: the one-line message must match. */
  refused?: RegExp;
  /** The refusal's exit code: 2 (the runtime refuses), unless k6 itself rejects the script (104: invalid options). */
  exitCode?: number;
  check?: (c: Ctx) => void;
}

const CASES: Case[] = [
  {
    // k6: vus 1, iterations 5 → shared-iterations, 5 iterations (execution_config_shortcuts.go); one check each.
    file: '01-hello-get.js',
    check: ({ r, s }) => {
      expect(s.count('/get')).toBe(5);
      expect(r.iterations.complete).toBe(5);
      expect(checks(r)).toEqual({ passes: 5, fails: 0 });
    },
  },
  {
    // k6: `vus` alone → shared-iterations with iterations = vus (execution_config_shortcuts.go, VUs case): 4.
    file: '02-vus-alone.js',
    check: ({ r, s }) => {
      expect(s.count('/get')).toBe(4);
      expect(count(r, 'iterations')).toBe(4);
    },
  },
  {
    // k6: no execution options → per-vu-iterations, 1 VU, 1 iteration (default case of DeriveScenariosFromShortcuts).
    file: '03-no-options.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(1);
      expect(count(r, 'iterations')).toBe(1);
      expect(checks(r)).toEqual({ passes: 1, fails: 0 });
    },
  },
  {
    // k6: per-vu-iterations runs vus × iterations = 12 (per_vu_iterations.go).
    file: '04-per-vu-iterations.js',
    check: ({ r, s }) => {
      expect(s.count('/crocodiles/')).toBe(12);
      expect(count(r, 'iterations')).toBe(12);
      expect(checks(r)).toEqual({ passes: 12, fails: 0 });
    },
  },
  {
    // k6: shared-iterations 10 iterations over 3 VUs; all thresholds hold.
    file: '05-shared-iterations-thresholds.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(10);
      expect(verdicts(r)).toEqual({
        'http_req_failed rate<0.01': true,
        'http_req_duration p(95)<10000': true,
        'http_req_duration max<20000': true,
        'checks rate==1': true,
      });
    },
  },
  {
    // k6: Response.json(selector) is gjson.Get (response.go JSON): '#' counts, 'a.#.b' maps, '\.' escapes, missing → undefined.
    file: '06-json-selector.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(2);
      expect(checks(r)).toEqual({ passes: 16, fails: 0 });
    },
  },
  {
    // k6: Response.html() / parseHTML are goquery selections; 1 page + 3 links = 4 requests; 5 + 1 + 3 checks pass.
    file: '07-html-links.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/', '/page/1', '/page/2', '/page/3']);
      expect(checks(r)).toEqual({ passes: 9, fails: 0 });
    },
  },
  {
    // k6: res.cookies from Set-Cookie; the VU jar sends the session back: 6 iterations × 2 requests, 5 checks each.
    file: '08-login-cookies.js',
    check: ({ r, s }) => {
      expect(s.count('/api/login')).toBe(6);
      expect(s.count('/api/me')).toBe(6);
      expect(checks(r)).toEqual({ passes: 30, fails: 0 });
      expect(r.errors).toEqual([]);
    },
  },
  {
    // k6: http.cookieJar() set/cookiesForURL/delete (cookiejar.go); 3 iterations × 2 requests, 4 checks each.
    file: '09-cookie-jar-api.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(6);
      expect(checks(r)).toEqual({ passes: 12, fails: 0 });
    },
  },
  {
    // k6: params.cookies are added to the jar's, `replace: true` drops the jar's (httpext SetRequestCookies); a custom jar is empty.
    file: '10-params-cookies.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(4);
      expect(checks(r)).toEqual({ passes: 4, fails: 0 });
    },
  },
  {
    // k6: redirects followed by the Go client, each hop a request: 3 redirects + /get = 4; then redirects: 1 → 2 requests, 302 returned.
    file: '11-redirects.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/redirect/3', '/redirect/2', '/redirect/1', '/get', '/redirect/3', '/redirect/2']);
      expect(count(r, 'http_reqs')).toBe(6);
      expect(checks(r)).toEqual({ passes: 3, fails: 0 });
    },
  },
  {
    // k6: maxRedirects 0 → the first 302 comes back (request.go CheckRedirect: len(via) > redirects).
    file: '12-max-redirects-option.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(2);
      expect(checks(r)).toEqual({ passes: 2, fails: 0 });
    },
  },
  {
    // k6: object bodies are url.Values.Encode()d: keys sorted, arrays repeated, space as '+' (request.go handleObjectBody).
    file: '13-form-arrays.js',
    check: ({ r, s }) => {
      expect(s.seen[0]?.body).toBe('name=big+pie&qty=2&toppings=cheese&toppings=olives');
      expect(checks(r)).toEqual({ passes: 3, fails: 0 });
    },
  },
  {
    // k6: expectedStatuses(200, 404) makes the 404s expected: http_req_failed 0, expected_response:true on all 8.
    file: '14-expected-statuses.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(8);
      expect(verdicts(r)).toEqual({ 'http_req_failed rate==0': true, 'http_reqs{expected_response:true} count==8': true });
    },
  },
  {
    // k6: per-request responseCallback; default 200-399: 201 ok, 418 failed, 302 ok, 200 failed (only 201 expected) → rate 0.5.
    file: '15-response-callback-param.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(8);
      expect(verdicts(r)).toEqual({ 'http_req_failed rate==0.5': true, 'http_req_failed{name:teapot} rate==1': true });
    },
  },
  {
    // k6: http.url`...${id}` tags name with '${}' placeholders (k6 docs: URL grouping).
    file: '16-url-template.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/crocodiles/1/', '/crocodiles/2/', '/crocodiles/3/']);
      expect(r.thresholds.map((t) => t.ok)).toEqual([true]);
      expect(checks(r)).toEqual({ passes: 3, fails: 0 });
    },
  },
  {
    // k6: sub-metric thresholds on request tags and options.tags (metrics/metric.go AddSubmetric).
    file: '17-tags-submetrics.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(12);
      expect(Object.values(verdicts(r))).toEqual([true, true, true, true]);
      // the run's request records carry the request tags too (criteria such as variant-routing read them)
      expect(r.result.records.filter((x) => x.tags?.['type'] === 'api' && x.tags?.['testid'] === 'corpus-17')).toHaveLength(4);
      expect(r.result.records.every((x) => x.tags?.['status'] === '200' && x.tags?.['scenario'] === 'default')).toBe(true);
    },
  },
  {
    // k6: custom Counter/Gauge/Rate/Trend with thresholds; counts are exact.
    file: '18-custom-metrics.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(5);
      expect(verdicts(r)).toEqual({
        'pizzas_ordered count==5': true,
        'pizzas_ordered{kind:special} count==5': true,
        'last_price value==12': true,
        'vegetarian rate<0.5': true,
        'pizza_calories avg==700': true,
        'pizza_calories p(90)<=700': true,
      });
    },
  },
  {
    // k6: check() takes non-function values for their truthiness (k6.go Check): check(null, {a: true, b: false}) is 1 pass 1 fail.
    file: '19-check-plain-values.js',
    check: ({ r }) => {
      expect(checks(r)).toEqual({ passes: 4, fails: 4 });
      expect(checks(r, 'a')).toEqual({ passes: 2, fails: 0 });
      expect(checks(r, 'b')).toEqual({ passes: 0, fails: 2 });
      expect(verdicts(r)).toEqual({ 'checks rate==0.5': true });
    },
  },
  {
    // k6: metrics.add(NaN) and add(undefined) are dropped with a warning (metrics.go add, raiseNan): only the 9s count.
    file: '20-nan-trend.js',
    check: ({ r, logs }) => {
      expect(r.metrics.series.get('item_price')?.values).toEqual([9, 9, 9]);
      expect(verdicts(r)).toEqual({ 'item_price max<100': true, 'item_price min>0': true });
      expect(logs.filter((l) => l.includes("invalid value for metric 'item_price'")).length).toBe(3);
    },
  },
  {
    // k6: setup once, default with its data, teardown once: 1 + 4 + 1 requests; iterations 4.
    file: '21-setup-teardown.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/api/login', '/api/me', '/api/me', '/api/me', '/api/me', '/api/logout']);
      expect(count(r, 'iterations')).toBe(4);
      expect(checks(r)).toEqual({ passes: 4, fails: 0 });
    },
  },
  {
    // k6: scenario exec/env/tags; each scenario's iterations and tags (k6 docs: Scenarios).
    file: '22-scenarios-exec-env.js',
    check: ({ r, s }) => {
      expect(s.count('/crocodiles/')).toBe(6);
      expect(s.count('/api/pizza')).toBe(3);
      expect(Object.values(verdicts(r))).toEqual([true, true]);
    },
  },
  {
    // k6: startTime delays a scenario; both run fully: 2 + 4.
    file: '23-start-time.js',
    check: ({ r, s }) => {
      expect(s.count('/get?phase=warmup')).toBe(2);
      expect(s.count('/get?phase=main')).toBe(4);
      expect(count(r, 'iterations')).toBe(6);
    },
  },
  {
    // k6: exec.scenario.iterationInTest is unique 0..8 across the 3 VUs of a shared-iterations scenario.
    file: '24-execution-context.js',
    check: ({ s }) => {
      const q = s.seen.map((x) => new URL(x.path, 'http://x').searchParams);
      expect(q.map((p) => Number(p.get('it'))).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      expect(new Set(q.map((p) => p.get('vu')))).toEqual(new Set(['1', '2', '3']));
      expect(new Set(q.map((p) => `${p.get('sc')} ${p.get('ex')}`))).toEqual(new Set(['numbered shared-iterations']));
      // exec.vu.iterationInScenario and __ITER count each VU's own iterations from 0
      for (const vu of ['1', '2', '3']) {
        const mine = q.filter((p) => p.get('vu') === vu);
        expect(mine.map((p) => Number(p.get('vit')))).toEqual(mine.map((_p, i) => i));
        expect(mine.map((p) => p.get('iter'))).toEqual(mine.map((p) => p.get('vit')));
      }
    },
  },
  {
    // k6: SharedArray built from open() in the init context; one user per iteration.
    file: '25-shared-array.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => new URLSearchParams(x.body).get('username')).sort()).toEqual(['alice', 'bob', 'carol', 'dave']);
      expect(checks(r)).toEqual({ passes: 4, fails: 0 });
    },
  },
  {
    // k6/encoding and k6/crypto give the standard digests.
    file: '26-encoding-crypto.js',
    check: ({ r, s }) => {
      const h = s.seen[0]?.headers ?? {};
      const body = JSON.stringify({ amount: 10 });
      expect(h['x-signature']).toBe(createHmac('sha256', 'shared-secret').update(body).digest('hex'));
      expect(h['x-digest']).toBe(createHash('sha256').update(body).digest('base64'));
      expect(checks(r)).toEqual({ passes: 3, fails: 0 });
    },
  },
  {
    // k6: handleSummary(data) gets metrics with values and thresholds {ok}, root_group.checks as a list.
    file: '27-handle-summary.js',
    env: { SUMMARY_OUT: 'summary.json' },
    check: ({ r }) => {
      expect(JSON.parse(r.handleSummary?.['summary.json'] ?? '{}')).toEqual({ iterations: 3, checks: ['ok:3/0'], threshold: true });
    },
  },
  {
    // k6: abortOnFail stops the test at a threshold evaluation (engine.go, every 2 s) long before the 2 m duration.
    file: '28-abort-on-fail.js',
    check: ({ r }) => {
      expect(r.abort?.kind).toBe('thresholds');
      expect(verdicts(r)).toEqual({ 'http_req_failed rate<0.1': false });
      expect(r.result.incomplete?.reason).toBe('aborted');
    },
  },
  {
    // k6: delayAbortEval beyond the run's end: no abort; the threshold still fails at the end (exit 99).
    file: '29-delay-abort-eval.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(3);
      expect(r.abort).toBeUndefined();
      expect(verdicts(r)).toEqual({ 'http_req_failed rate<0.1': false, 'http_req_duration p(99)<20000': true });
    },
  },
  {
    // k6: `stages` → ramping-vus (shortcuts), at most 3 VUs; every iteration makes one request.
    file: '30-ramping-vus-stages.js',
    check: ({ r, s }) => {
      expect(count(r, 'iterations')).toBe(s.seen.length);
      expect(r.iterations.complete).toBeGreaterThan(0);
      expect(Math.max(...(r.metrics.series.get('vus_max')?.values ?? []))).toBe(3);
      const vus = new Set(s.seen.map((x) => new URL(x.path, 'http://x').searchParams.get('vu')));
      expect([...vus].every((v) => ['1', '2', '3'].includes(String(v)))).toBe(true);
      expect(verdicts(r)).toEqual({ 'checks rate==1': true });
    },
  },
  {
    // k6: constant-arrival-rate starts an iteration at 0, 100 ms, ... 900 ms: 10 arrivals, each run or dropped.
    file: '31-constant-arrival-rate.js',
    check: ({ r, s }) => {
      expect(s.seen.length + count(r, 'dropped_iterations')).toBe(10);
      expect(r.iterations.complete + r.iterations.dropped + r.iterations.interrupted).toBe(10);
    },
  },
  {
    // k6: ramping-arrival-rate iteration i starts when the rate's area reaches i (ramping_arrival_rate.go cal): 5 + 10 = 15.
    file: '32-ramping-arrival-rate.js',
    check: ({ r, s }) => {
      expect(s.seen.length + count(r, 'dropped_iterations')).toBe(15);
    },
  },
  {
    // k6: an exception ends the iteration, is logged with its location, and the iteration still counts
    // (helpers.go getIterationRunner: AddFullIterations after logging): 6 iterations, 3 checks, 3 errors.
    file: '33-iteration-error.js',
    check: ({ r, s, logs }) => {
      expect(s.seen).toHaveLength(6);
      expect(count(r, 'iterations')).toBe(6);
      expect(checks(r)).toEqual({ passes: 3, fails: 0 });
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]?.count).toBe(3);
      expect(r.errors[0]?.message).toMatch(/^TypeError: Cannot read properties of undefined/);
      expect(r.errors[0]?.at).toMatch(/33-iteration-error\.js:12:\d+\)$/);
      expect(logs.some((l) => l.startsWith('ERRO TypeError') && l.includes('source=stacktrace'))).toBe(true);
    },
  },
  {
    // k6: groups tag samples with `group` (::pizza); res.cookies keys; 4 iterations × 3 requests.
    file: '34-quickpizza-flow.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(12);
      expect(checks(r)).toEqual({ passes: 16, fails: 0 });
      expect(Object.values(verdicts(r))).toEqual([true, true]);
    },
  },
  {
    // k6: http.batch array and object forms; 2 iterations × 5 requests.
    file: '35-batch-groups.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(10);
      expect(checks(r)).toEqual({ passes: 4, fails: 0 });
    },
  },
  {
    // k6chaijs (carried: shims/k6chaijs-core.ts): an expect outside describe is one check named
    // "expected <label> to equal <exp>" (grafana/k6-jslib-k6chaijs src/assert.ts createTestName).
    file: '36-jslib-import.js',
    check: ({ r, s }) => {
      expect(s.count('/crocodiles/1/')).toBe(1);
      expect(checks(r, 'expected status to equal 200')).toEqual({ passes: 1, fails: 0 });
      expect(r.errors).toEqual([]);
    },
  },
  {
    // k6/ws (shims/ws.ts): nothing listens on port 1, so the dial fails; connect returns a response with the
    // error instead of throwing (ws.go Connect without options.throw) and still pushes ws_sessions (dial).
    file: '37-websockets.js',
    check: ({ r, s }) => {
      expect(s.count('/get')).toBe(1);
      expect(count(r, 'ws_sessions')).toBe(1);
      expect(r.iterations.complete).toBe(1);
      expect(r.errors).toEqual([]);
    },
  },
  {
    file: '38-submit-form.js',
    refused: /38-submit-form\.js:6: unsupported by the built-in k6 runtime: Response\.submitForm\(\) \(k6 docs: Response\.submitForm\)/,
  },
  {
    // k6: iterations + duration → shared-iterations with maxDuration = duration: exactly 6.
    file: '39-iterations-with-duration.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(6);
      expect(count(r, 'iterations')).toBe(6);
    },
  },
  {
    // k6: an iteration still running after duration + gracefulStop is interrupted and not counted in `iterations`.
    file: '40-graceful-stop.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(1);
      expect(r.iterations).toEqual({ complete: 0, interrupted: 1, dropped: 0 });
      expect(count(r, 'iterations')).toBe(0);
    },
  },
  {
    // k6: headers in Go's canonical case (http.CanonicalHeaderKey), proto HTTP/1.1, all timings (httpext/response.go).
    file: '41-headers-timings-proto.js',
    check: ({ r }) => {
      expect(checks(r)).toEqual({ passes: 8, fails: 0 });
    },
  },
  {
    // k6: async default functions and http.asyncRequest; 2 iterations × 2 requests.
    file: '42-async-default.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(4);
      expect(checks(r)).toEqual({ passes: 2, fails: 0 });
    },
  },
  {
    // k6: fail() throws; each of the 3 iterations logs the error and stops before its second request.
    file: '43-fail-on-check.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/api/me', '/api/me', '/api/me']);
      expect(count(r, 'iterations')).toBe(3);
      expect(checks(r)).toEqual({ passes: 0, fails: 3 });
      expect(r.errors.map((e) => `${e.message} ×${e.count}`)).toEqual(['Error: unexpected status 401 ×3']);
    },
  },
  {
    // k6: exec.test.abort() stops the test (exit 108): iterations 0, 1, 2 ran.
    file: '44-test-abort.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/get?i=0', '/get?i=1', '/get?i=2']);
      expect(r.abort?.kind).toBe('script');
    },
  },
  { file: '45-remote-host.js', refused: /refusing to send load to test\.k6\.io: not a loopback address/ },
  {
    // k6: VUs are initialized before the test starts (execution scheduler init phase), so 8 VUs all run
    // their iteration within maxDuration: 8 requests, one per VU.
    file: '46-vu-startup.js',
    check: ({ r, s }) => {
      expect(s.seen).toHaveLength(8);
      expect(new Set(s.seen.map((x) => x.path)).size).toBe(8);
      expect(r.iterations).toEqual({ complete: 8, interrupted: 0, dropped: 0 });
    },
  },
  {
    // k6: Hasher.Digest returns hash.Sum(nil), which does not reset the hash (k6 v2.2.0
    // internal/js/modules/k6/crypto/crypto.go): digest() again gives the same value, update() continues.
    file: '47-hasher-digest-twice.js',
    check: ({ r, logs }) => {
      expect(checks(r)).toEqual({ passes: 3, fails: 0 });
      const sha1 = createHash('sha1').update('some other text').digest();
      const more = createHash('sha1').update('some other text and more').digest('hex');
      const mac = createHmac('sha256', 'secret').update('payload').digest('hex');
      expect(logs).toContain(`INFO ${sha1.toString('hex')} ${sha1.toString('base64')} ${more} ${mac} source=console`);
    },
  },
  {
    // k6: an iteration ends when its event loop is empty (internal/js/eventloop/eventloop.go; k6/timers
    // registers each timer): the 3 chained timeouts, the global one and the interval run in both iterations.
    file: '48-timers-event-loop.js',
    check: ({ r, s }) => {
      expect(s.count('/get?left=')).toBe(6);
      expect(s.count('/headers')).toBe(2);
      expect(s.count('/status/204')).toBe(2);
      expect(r.iterations.complete).toBe(2);
      expect(r.errors).toEqual([]);
    },
  },
  {
    // k6: an exception in a timer callback ends the event loop with that error; the iteration fails and is
    // counted (lib/executor/helpers.go getIterationRunner logs it once per iteration).
    file: '49-timer-throws.js',
    check: ({ r, s }) => {
      expect(s.count('/get')).toBe(3);
      expect(r.iterations.complete).toBe(3);
      expect(r.errors).toHaveLength(1);
      expect(r.errors[0]?.message).toBe('Error: boom in a timer');
      expect(r.errors[0]?.count).toBe(3);
    },
  },
  {
    // k6-utils jslib (grafana/k6-jslib-utils v1.4.0 src/utils.js): findBetween's first match, every match with
    // `repeat`, null on a miss; randomIntBetween in [min, max]; 6 shared iterations → 6 requests.
    file: '50-jslib-k6-utils.js',
    check: ({ r, s }) => {
      expect(s.count('/crocodiles/')).toBe(6);
      expect(checks(r)).toEqual({ passes: 36, fails: 0 });
    },
  },
  {
    // k6-summary jslib textSummary (the renderer of k6's internal/js/summary-legacy.js): the check line, the
    // threshold mark on `checks`, and the data handleSummary got.
    file: '51-jslib-k6-summary.js',
    check: ({ r, s }) => {
      expect(s.count('/get')).toBe(2);
      const text = r.handleSummary?.['summary.txt'] ?? '';
      expect(text).toContain('     ✓ status is 200');
      expect(text).toMatch(/^   ✓ checks\.+: 100\.00% ✓ 2 ✗ 0$/m);
      expect(text).toMatch(/^     iterations\.+: 2 /m);
      const data = JSON.parse(r.handleSummary?.['summary.json'] ?? '{}') as { metrics: Record<string, { values: Record<string, number> }> };
      expect(data.metrics['http_reqs']?.values['count']).toBe(2);
    },
  },
  {
    file: '52-jslib-utils-stage-helper.js',
    refused: /unsupported by the built-in k6 runtime: tagWithCurrentStageIndex of the k6-utils jslib \(k6 docs: jslib, k6-utils\)/,
  },
  {
    // k6 rejects it before the test (lib/executor/shared_iterations.go Validate; exit code 104, invalid config).
    file: '53-fewer-iterations-than-vus.js',
    refused: /the number of iterations \(2\) can't be less than the number of VUs \(10\)/,
    exitCode: 104,
  },
  {
    // k6's console (internal/js/console.go): arguments joined by spaces, no printf, objects as { k: v } with
    // nested strings quoted; debug only with --verbose. maxRedirects set → no "Stopped after" warning
    // (lib/netext/httpext/request.go warns only when preq.Redirects is not Valid); 2 requests, the 302 kept.
    file: '54-console-and-redirect-warning.js',
    check: ({ s, logs }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/redirect/3', '/redirect/2']);
      expect(logs).toContain('INFO user { name: "John", tags: [ "a", 1 ], nested: { ok: true, none: null } } 3 %d source=console');
      expect(logs).toContain('INFO status 302 source=console');
      expect(logs.some((l) => l.includes('only with --verbose'))).toBe(false);
      expect(logs.some((l) => l.includes('Stopped after'))).toBe(false);
    },
  },
  {
    // k6 pushes samples as they happen (the VU's samples channel, internal/js/runner.go), so an iteration that
    // an abort cuts short still counts the requests and checks it made: the abortOnFail threshold (judged every
    // 2 s, engine.go) stops the test while all 3 VUs sleep; 3 requests, 3 failed checks, 0 complete iterations.
    file: '55-interrupted-iteration-samples.js',
    check: ({ r, s }) => {
      expect(s.count('/status/503')).toBe(3);
      expect(r.abort?.kind).toBe('thresholds');
      expect(count(r, 'http_reqs')).toBe(3);
      expect(checks(r)).toEqual({ passes: 0, fails: 3 });
      expect(r.iterations.complete).toBe(0);
      expect(r.iterations.interrupted).toBe(3);
    },
  },
  {
    // papaparse jslib (jslib.k6.io serves papaparse's UMD build; k6 imports it as the default export): header rows
    // as objects, a quoted field with a comma kept whole, unparse quoting it again; 3 shared iterations → 3 requests.
    file: '56-jslib-papaparse.js',
    check: ({ r, s }) => {
      expect(s.count('/get')).toBe(3);
      expect(r.iterations.complete).toBe(3);
      expect(checks(r)).toEqual({ passes: 12, fails: 0 });
    },
  },
  {
    // k6 v2.2.0 digest_transport.go: each request goes out without credentials, the 401 challenge is answered and
    // the request sent again, both through the tracing transport: 2 requests each, 4 per iteration. The first 401
    // of a request is expected (request.go swaps the response callback once), so http_req_failed counts only the
    // wrong password's second 401.
    file: '57-digest-auth.js',
    check: ({ r, s }) => {
      expect(s.count('/digest-auth/')).toBe(8);
      expect(s.seen.filter((x) => x.path.startsWith('/digest-auth/') && x.headers.authorization === undefined)).toHaveLength(4);
      expect(s.seen.every((x) => !String(x.headers.authorization ?? '').startsWith('Basic'))).toBe(true);
      expect(checks(r)).toEqual({ passes: 8, fails: 0 });
      expect(count(r, 'http_reqs')).toBe(8);
      const failed = r.metrics.series.get('http_req_failed');
      expect(failed?.values.filter(Boolean)).toHaveLength(2);
    },
  },
  {
    // k6 v2.2.0: httpext.NewURL parses with Go's url.Parse, which takes 'not a url' as a path (no scheme) and
    // lower-cases 'FTP'; Go's transport then refuses the scheme (`unsupported protocol scheme "..."`), a *url.Error
    // whose inner error k6 does not know: error_code 1000 (error_codes.go). http.get returns status 0 with the
    // error and does not throw (throw defaults to false). The VU's cookie jar, empty here, must not turn the first
    // one into a TypeError either. '/get%zz' does not parse ("invalid URL escape"): no request, no metrics, 1020
    // (request.go handleParseRequestError). 2 iterations x (4 calls, 3 requests, 6 checks); the two refused count as failed.
    file: '58-unparsable-url.js',
    check: ({ r, s }) => {
      expect(s.seen.map((x) => x.path)).toEqual(['/get', '/get']);
      expect(r.errors).toEqual([]);
      expect(r.iterations.complete).toBe(2);
      expect(checks(r)).toEqual({ passes: 12, fails: 0 });
      expect(count(r, 'http_reqs')).toBe(6);
      expect(r.metrics.series.get('http_req_failed')?.values.filter(Boolean)).toHaveLength(4);
    },
  },
];

test.setTimeout(120_000);

test('the corpus has at least 35 scripts, each with its expected k6 result', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(35);
  const refused = CASES.filter((c) => c.refused).length;
  expect(CASES.length - refused).toBeGreaterThanOrEqual(32);
});

for (const c of CASES) {
  test(`corpus ${c.file}`, async () => {
    const s = await startCorpusServer();
    const logs: string[] = [];
    try {
      const run = runK6ScriptReport({
        script: path.join(dir, c.file),
        env: { BASE_URL: s.url, ...(c.env ?? {}) },
        log: (l) => logs.push(l),
      });
      if (c.refused) {
        const err = await run.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(UserError);
        expect((err as UserError).message).toMatch(c.refused);
        expect((err as UserError).message.split('\n')).toHaveLength(1);
        expect((err as UserError).exitCode).toBe(c.exitCode ?? 2);
        expect(s.seen).toHaveLength(0);
        return;
      }
      const r = await run;
      c.check?.({ r, s, logs });
      // never silently wrong: each distinct iteration error is logged once, with its count in the report
      expect(logs.filter((l) => l.startsWith('ERRO ')).length).toBe(r.errors.length);
    } finally {
      await s.close();
    }
  });
}

import { expect, test } from '@playwright/test';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { runAgainstCorpusServer, type CorpusServer } from './k6-corpus-server.ts';

/*
 * The HTTP instrumentation jslibs carried by the built-in k6 runtime (load/k6-runtime/shims/http-instrumentation.ts)
 * on scripts of our own (test/fixtures/k6/instrumentation): the loopback server sees the headers the libraries
 * add (grafana/jslib.k6.io lib/http-instrumentation-pyroscope/1.0.1/index.js, lib/http-instrumentation-tempo/
 * 1.0.0 and 1.0.1/index.js).
 */

const dir = path.resolve(import.meta.dirname, '../fixtures/k6/instrumentation');

const run = (file: string) => runAgainstCorpusServer(path.join(dir, file));

const header = (s: CorpusServer, p: string, name: string): (string | undefined)[] =>
  s.seen.filter((x) => x.path === p).map((x) => x.headers[name] as string | undefined);

test('pyroscope: every k6/http call carries the k6 baggage; http.batch is not instrumented', async () => {
  const { r, s, logs } = await run('pyroscope.js');
  const base = s.url;
  // pyroBaggage: k6.test_run_id from K6_CLOUDRUN_TEST_RUN_ID (unset: "undefined"), the scenario, tags.name or the URL
  expect(header(s, '/post', 'baggage')).toEqual(Array(2).fill(`k6.test_run_id=undefined, k6.scenario=default, k6.name=${base}/post`));
  expect(header(s, '/get?named', 'baggage')).toEqual(Array(2).fill('k6.test_run_id=undefined, k6.scenario=default, k6.name=named-get'));
  expect(header(s, '/get?async', 'baggage')).toEqual(
    Array(2).fill(`k6.test_run_id=undefined, k6.scenario=default, k6.name=${base}/get?async`),
  );
  // instrumentHTTP replaces del/get/head/options/patch/post/put/request/asyncRequest only
  expect(header(s, '/get?batch', 'baggage')).toEqual([undefined, undefined]);
  // the caller's own headers stay (instrumentArguments assigns into params.headers)
  expect(header(s, '/post', 'content-type')).toEqual(['application/json', 'application/json']);
  // a Client with its own generator sends its headers instead
  expect(header(s, '/headers', 'x-custom')).toEqual(['yes', 'yes']);
  expect(header(s, '/headers', 'baggage')).toEqual([undefined, undefined]);
  // Client.asyncRequest awaits the request and returns nothing
  expect(logs.filter((l) => l.startsWith('INFO asyncRequest'))).toEqual(
    Array(2).fill('INFO asyncRequest resolved to undefined source=console'),
  );
  expect(r.metrics.series.get('checks')?.values).toEqual([1, 1]);
  expect(r.errors).toEqual([]);
});

test('tempo: a W3C traceparent (sampled) or a jaeger uber-trace-id (sampling 0) per request, k6 trace ids', async () => {
  const { r, s, logs } = await run('tempo.js');
  // propagatorMap.w3c: 00-<trace id>-<16 hex>-01; newTraceID: "dc0718" + time bytes + random, 32 hex digits
  const w3c = header(s, '/get?w3c', 'traceparent');
  expect(w3c).toHaveLength(1);
  expect(w3c[0]).toMatch(/^00-dc0718[0-9a-f]{26}-[0-9a-f]{16}-01$/);
  expect(header(s, '/get?async', 'traceparent')[0]).toMatch(/^00-dc0718[0-9a-f]{26}-[0-9a-f]{16}-01$/);
  // the tempo Client's asyncRequest returns the response
  expect(logs).toContain('INFO async status 200 source=console');
  // propagatorMap.jaeger with newProbalisticSampler(0): <trace id>:<8 hex>:0:0
  expect(header(s, '/get?jaeger', 'uber-trace-id')[0]).toMatch(/^dc0718[0-9a-f]{26}:[0-9a-f]{8}:0:0$/);
  // 1.0.1's Client defaults to k6/http's request as it is when constructed: here the w3c-instrumented one, so
  // this request carries both headers
  expect(header(s, '/get?jaeger', 'traceparent')[0]).toMatch(/^00-dc0718[0-9a-f]{26}-[0-9a-f]{16}-01$/);
  expect(r.errors).toEqual([]);
});

test('pyroscope then tempo: 1.0.1 chains both headers, 1.0.0 wraps k6/http as loaded and drops the baggage', async () => {
  const chained = await run('chained-1.0.1.js');
  expect(header(chained.s, '/get', 'baggage')[0]).toMatch(/^k6\.test_run_id=undefined, k6\.scenario=default, k6\.name=/);
  expect(header(chained.s, '/get', 'traceparent')[0]).toMatch(/^00-dc0718/);
  const old = await run('chained-1.0.0.js');
  expect(header(old.s, '/get', 'baggage')).toEqual([undefined]);
  expect(header(old.s, '/get', 'traceparent')[0]).toMatch(/^00-dc0718/);
});

test('tempo with an unknown propagator fails in the init context (exit 107) with the library message', async () => {
  const err = await run('bad-propagator.js').then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UserError);
  expect((err as UserError).exitCode).toBe(107);
  expect((err as UserError).message).toMatch(/init: unknown propagator: zipkin/);
});

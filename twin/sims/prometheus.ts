/**
 * prom-client's metric classes, loaded from their own files instead of the package's index.
 *
 * The index also loads what the simulators never use: `collectDefaultMetrics` (node:v8, perf_hooks and a
 * dozen process collectors), the Pushgateway (node:https, zlib) and the cluster aggregator (node:cluster).
 * On a bare http server, requiring the index took RSS from 43.7 to 52.6 MB and the four classes alone to 44.0 MB;
 * in the twin's idle pods the difference measured 2-5 MB (docs/benchmarks.md). They are the same objects
 * the index exports (it requires these very files): test/unit/prometheus-classes.test.ts checks it, and
 * fails if a prom-client upgrade moves them.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const load = createRequire(import.meta.url);

export const Registry = load('prom-client/lib/registry') as typeof PromClient.Registry;
export type Registry = PromClient.Registry;
export const Counter = load('prom-client/lib/counter') as typeof PromClient.Counter;
export type Counter<T extends string = string> = PromClient.Counter<T>;
export const Gauge = load('prom-client/lib/gauge') as typeof PromClient.Gauge;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export const Histogram = load('prom-client/lib/histogram') as typeof PromClient.Histogram;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;

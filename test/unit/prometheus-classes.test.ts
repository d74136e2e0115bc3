import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import * as promClient from 'prom-client';
import { Counter, Gauge, Histogram, Registry } from '../../twin/sims/prometheus.ts';
import { runnableModule } from '../../common/build.mjs';

/*
 * The simulators load prom-client's classes from their own files, not from the package index (which brings the
 * default-metrics collectors, the Pushgateway and the cluster aggregator: ~8.5 MB of RSS per pod process).
 */

test("the classes are prom-client's own (the ones its index exports): a prom-client upgrade that moves them fails here", () => {
  expect(Registry).toBe(promClient.Registry);
  expect(Counter).toBe(promClient.Counter);
  expect(Gauge).toBe(promClient.Gauge);
  expect(Histogram).toBe(promClient.Histogram);
});

test('they render the Prometheus text format as the index would', async () => {
  const registry = new Registry();
  new Counter({ name: 'x_total', help: 'x.', labelNames: ['a'], registers: [registry] }).inc({ a: '1' }, 2);
  new Histogram({ name: 'h_seconds', help: 'h.', buckets: [0.1], registers: [registry] }).observe(0.05);
  const text = await registry.metrics();
  expect(text).toContain('# TYPE x_total counter\nx_total{a="1"} 2');
  expect(text).toContain('h_seconds_bucket{le="0.1"} 1');
  expect(registry.contentType).toBe(promClient.Registry.PROMETHEUS_CONTENT_TYPE);
});

test("a process that loads both simulators' metrics modules never loads prom-client's index", () => {
  const modules = ['twin/sims/vllm/metrics.ts', 'twin/sims/epp/metrics.ts'].map((rel) => runnableModule(rel));
  const script = `
    import { createRequire } from 'node:module';
    import { pathToFileURL } from 'node:url';
    for (const m of ${JSON.stringify(modules)}) await import(pathToFileURL(m).href);
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((f) => f.includes('/prom-client/'));
    process.stdout.write(JSON.stringify(loaded.map((f) => f.slice(f.indexOf('/prom-client/') + 1))));
  `;
  const tsx = modules.some((m) => m.endsWith('.ts')) ? ['--import', 'tsx'] : [];
  const loaded = JSON.parse(
    execFileSync(process.execPath, [...tsx, '--input-type=module', '-e', script], { encoding: 'utf8' }),
  ) as string[];
  expect(loaded).toContain('prom-client/lib/registry.js');
  expect(loaded).not.toContain('prom-client/index.js');
  expect(loaded.filter((f) => /defaultMetrics|pushgateway|cluster/.test(f))).toEqual([]);
});

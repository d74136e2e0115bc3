/** The EPP's Prometheus metrics (GAIE names), on a private registry so tests can run several in one process. */
import { Counter, Gauge, Histogram, Registry } from '../prometheus.ts';
import type { Datastore } from './datastore.ts';

export interface EppMetrics {
  registry: Registry;
  requestTotal: Counter<'model_name' | 'target_model_name'>;
  requestErrorTotal: Counter<'model_name' | 'target_model_name' | 'error_code'>;
  requestDuration: Histogram<'model_name' | 'target_model_name'>;
  schedulerE2e: Histogram<string>;
}

export function createEppMetrics(poolName: string, ds: Datastore): EppMetrics {
  const registry = new Registry();
  const registers = [registry];
  const endpoints = () => ds.endpoints();
  new Gauge({
    name: 'inference_pool_ready_pods',
    help: 'The number of ready pods in the inference server pool.',
    labelNames: ['name'],
    registers,
    collect() {
      this.set({ name: poolName }, endpoints().length);
    },
  });
  new Gauge({
    name: 'inference_pool_average_queue_size',
    help: 'The average number of requests pending in the model server queue.',
    labelNames: ['name'],
    registers,
    collect() {
      const e = endpoints();
      this.set({ name: poolName }, e.length ? e.reduce((s, x) => s + x.metrics.waiting, 0) / e.length : 0);
    },
  });
  new Gauge({
    name: 'inference_pool_average_kv_cache_utilization',
    help: 'The average kv cache utilization for an inference server pool.',
    labelNames: ['name'],
    registers,
    collect() {
      const e = endpoints();
      this.set({ name: poolName }, e.length ? e.reduce((s, x) => s + x.metrics.kvCacheUsage, 0) / e.length : 0);
    },
  });
  new Gauge({
    name: 'inference_pool_per_pod_in_flight_requests',
    help: 'Twin extension: requests in flight per endpoint as seen by this EPP (active-request-scorer state).',
    labelNames: ['name', 'model_server_pod'],
    registers,
    collect() {
      this.reset();
      for (const e of endpoints()) this.set({ name: poolName, model_server_pod: e.key }, e.inFlight);
    },
  });
  return {
    registry,
    requestTotal: new Counter({
      name: 'inference_objective_request_total',
      help: 'Counter of inference objective requests broken out for each model and target model.',
      labelNames: ['model_name', 'target_model_name'],
      registers,
    }),
    requestErrorTotal: new Counter({
      name: 'inference_objective_request_error_total',
      help: 'Counter of inference objective requests errors broken out for each model and target model.',
      labelNames: ['model_name', 'target_model_name', 'error_code'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'inference_objective_request_duration_seconds',
      help: 'Inference objective response latency distribution in seconds for each model and target model.',
      labelNames: ['model_name', 'target_model_name'],
      buckets: [
        0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480,
        600, 900, 1200, 1800, 2700, 3600,
      ],
      registers,
    }),
    schedulerE2e: new Histogram({
      name: 'inference_extension_scheduler_e2e_duration_seconds',
      help: 'End-to-end scheduling latency distribution in seconds.',
      buckets: [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1],
      registers,
    }),
  };
}

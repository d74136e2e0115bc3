/**
 * Twin-only: --static-endpoints gives the EPP a fixed endpoint list instead of a Kubernetes watch (tests).
 * Value: a JSON array, or @path of a file holding one:
 *   [{"namespace":"ns","name":"pod-a","address":"127.0.0.1","port":8000,"labels":{"role":"proxy"}}]
 */
import { readFileSync } from 'node:fs';
import type { EndpointSpec } from './types.ts';

export function parseStaticEndpoints(value: string): EndpointSpec[] {
  const text = value.startsWith('@') ? readFileSync(value.slice(1), 'utf8') : value;
  const list = JSON.parse(text) as unknown;
  if (!Array.isArray(list)) throw new Error('--static-endpoints must be a JSON array');
  return list.map((x, i) => {
    const e = x as Record<string, unknown>;
    if (typeof e.name !== 'string' || typeof e.address !== 'string' || typeof e.port !== 'number') {
      throw new Error(`--static-endpoints[${i}]: name, address and port are required`);
    }
    return {
      namespace: typeof e.namespace === 'string' ? e.namespace : 'default',
      name: e.name,
      address: e.address,
      port: e.port,
      labels: (e.labels as Record<string, string> | undefined) ?? {},
    };
  });
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { V1Pod, V1Service } from '#client-node';

export const CLUSTER_DOMAIN = 'cluster.local';

/** JSON hosts file the preload reads: fully qualified Service name -> pod IPs. */
export type HostsMap = Record<string, string[]>;

export function serviceFqdn(name: string, namespace: string): string {
  return `${name}.${namespace}.svc.${CLUSTER_DOMAIN}`;
}

function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function byIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * The hosts map for a set of Services and pods: each Service with a selector resolves to the IPs of
 * its namespace's ready pods matching it (an empty list when none are ready, so the name still
 * belongs to the cluster); an ExternalName Service resolves to what its target resolves to (another
 * Service, or an IP literal). Services without selector and without ExternalName are left out.
 */
export function renderHosts(services: readonly V1Service[], pods: readonly V1Pod[]): HostsMap {
  const hosts: HostsMap = {};
  const externals: [string, string][] = [];
  for (const svc of services) {
    const name = svc.metadata?.name;
    const ns = svc.metadata?.namespace ?? 'default';
    if (!name) continue;
    const fqdn = serviceFqdn(name, ns);
    if (svc.spec?.type === 'ExternalName') {
      if (svc.spec.externalName) externals.push([fqdn, svc.spec.externalName]);
      continue;
    }
    const selector = svc.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    const ips = new Set<string>();
    for (const pod of pods) {
      const podNs = pod.metadata?.namespace ?? 'default';
      const ip = pod.status?.podIP;
      if (podNs !== ns || !ip || !isPodReady(pod)) continue;
      if (selectorMatches(selector, pod.metadata?.labels)) ips.add(ip);
    }
    hosts[fqdn] = [...ips].sort(byIp);
  }
  for (const [fqdn, target] of externals) {
    const t = target.toLowerCase().replace(/\.$/, '');
    if (/^\d+\.\d+\.\d+\.\d+$/.test(t)) hosts[fqdn] = [t];
    else {
      const resolved = hosts[t] ?? hosts[`${t}.${CLUSTER_DOMAIN}`] ?? hosts[`${t}.svc.${CLUSTER_DOMAIN}`];
      if (resolved) hosts[fqdn] = [...resolved];
    }
  }
  return hosts;
}

/** Writes the hosts file atomically (temp file + rename), so readers never see half a file. */
export function writeHostsFile(file: string, hosts: HostsMap): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(hosts, null, 1)}\n`);
  fs.renameSync(tmp, file);
}

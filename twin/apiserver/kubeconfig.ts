/** The kubeconfig the twin writes: cluster `pd-harness-twin`, bearer-token user. */
import * as fs from 'node:fs';
import { stringify } from '#yaml';

export const CLUSTER_NAME = 'pd-harness-twin';

export function kubeconfigYaml(server: string, token: string, caPem: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CLUSTER_NAME, cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: CLUSTER_NAME, user: { token } }],
    contexts: [{ name: CLUSTER_NAME, context: { cluster: CLUSTER_NAME, user: CLUSTER_NAME, namespace } }],
    'current-context': CLUSTER_NAME,
    preferences: {},
  });
}

export function writeKubeconfig(file: string, server: string, token: string, caPem: string): void {
  fs.writeFileSync(file, kubeconfigYaml(server, token, caPem), { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

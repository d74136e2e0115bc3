import type { V1Container } from '#client-node';
import type { ManifestObject } from '../../cluster/manifests.ts';

/**
 * A namespace with one pod that runs a small Node program (`server.mjs`, mounted from a ConfigMap) on the twin's
 * `node:20` image, its port 8000 named `http`: what a test needs to make a pod behave a certain way (answer its
 * probes late, or never Ready). `container` adds to or replaces the container's fields (name, probes).
 */
export function programPod(namespace: string, pod: string, program: string, container: Partial<V1Container> = {}): ManifestObject[] {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'programs', namespace }, data: { 'server.mjs': program } },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod, namespace },
      spec: {
        volumes: [{ name: 'programs', configMap: { name: 'programs' } }],
        containers: [
          {
            name: 'server',
            image: 'node:20',
            command: ['node', '/programs/server.mjs'],
            ports: [{ name: 'http', containerPort: 8000 }],
            volumeMounts: [{ name: 'programs', mountPath: '/programs' }],
            ...container,
          },
        ],
      },
    },
  ];
}

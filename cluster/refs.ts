/** `kind/name` references as kubectl users write them (deploy/x, schedulerinstall/y) -> apiVersion + kind. */
export interface KindInfo {
  apiVersion: string;
  kind: string;
  namespaced: boolean;
}

const KINDS: Record<string, KindInfo> = {
  pod: { apiVersion: 'v1', kind: 'Pod', namespaced: true },
  service: { apiVersion: 'v1', kind: 'Service', namespaced: true },
  configmap: { apiVersion: 'v1', kind: 'ConfigMap', namespaced: true },
  secret: { apiVersion: 'v1', kind: 'Secret', namespaced: true },
  namespace: { apiVersion: 'v1', kind: 'Namespace', namespaced: false },
  event: { apiVersion: 'v1', kind: 'Event', namespaced: true },
  persistentvolumeclaim: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespaced: true },
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', namespaced: true },
  replicaset: { apiVersion: 'apps/v1', kind: 'ReplicaSet', namespaced: true },
  inferencepool: { apiVersion: 'inference.networking.k8s.io/v1', kind: 'InferencePool', namespaced: true },
  httproute: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', namespaced: true },
  gateway: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', namespaced: true },
  schedulerinstall: { apiVersion: 'sim.llm-d.io/v1alpha1', kind: 'SchedulerInstall', namespaced: true },
  testrun: { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', namespaced: true },
  customresourcedefinition: {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    namespaced: false,
  },
};

const ALIASES: Record<string, string> = {
  po: 'pod',
  pods: 'pod',
  svc: 'service',
  services: 'service',
  cm: 'configmap',
  configmaps: 'configmap',
  secrets: 'secret',
  ns: 'namespace',
  namespaces: 'namespace',
  ev: 'event',
  events: 'event',
  pvc: 'persistentvolumeclaim',
  deploy: 'deployment',
  deployments: 'deployment',
  rs: 'replicaset',
  replicasets: 'replicaset',
  inferencepools: 'inferencepool',
  httproutes: 'httproute',
  gateways: 'gateway',
  schedulerinstalls: 'schedulerinstall',
  testruns: 'testrun',
  crd: 'customresourcedefinition',
  crds: 'customresourcedefinitions',
};

export interface ObjectRef extends KindInfo {
  name: string;
  namespace?: string;
}

/** Parses `deploy/gaie-inference-scheduling-epp` (with the namespace given apart, as in suites). */
export function parseRef(ref: string, namespace?: string): ObjectRef {
  const slash = ref.indexOf('/');
  if (slash <= 0 || slash === ref.length - 1) {
    throw new Error(`bad reference "${ref}": expected KIND/NAME, e.g. deploy/gaie-inference-scheduling-epp`);
  }
  const rawKind = ref.slice(0, slash).toLowerCase();
  const name = ref.slice(slash + 1);
  const key = ALIASES[rawKind] ?? rawKind.replace(/\.[a-z0-9.-]+$/, '');
  const info = KINDS[key];
  if (!info) {
    throw new Error(`unknown kind "${rawKind}" in reference "${ref}" (known: ${Object.keys(KINDS).join(', ')})`);
  }
  return { ...info, name, ...(info.namespaced ? { namespace: namespace ?? 'default' } : {}) };
}

export function describeRef(ref: { kind: string; name: string; namespace?: string }): string {
  return `${ref.kind.toLowerCase()}/${ref.name}${ref.namespace ? ` -n ${ref.namespace}` : ''}`;
}

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
  statefulset: { apiVersion: 'apps/v1', kind: 'StatefulSet', namespaced: true },
  daemonset: { apiVersion: 'apps/v1', kind: 'DaemonSet', namespaced: true },
  serviceaccount: { apiVersion: 'v1', kind: 'ServiceAccount', namespaced: true },
  role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', namespaced: true },
  rolebinding: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', namespaced: true },
  clusterrole: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', namespaced: false },
  clusterrolebinding: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', namespaced: false },
  node: { apiVersion: 'v1', kind: 'Node', namespaced: false },
  persistentvolume: { apiVersion: 'v1', kind: 'PersistentVolume', namespaced: false },
  gatewayclass: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', namespaced: false },
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
  crds: 'customresourcedefinition',
  customresourcedefinitions: 'customresourcedefinition',
  sts: 'statefulset',
  statefulsets: 'statefulset',
  ds: 'daemonset',
  daemonsets: 'daemonset',
  sa: 'serviceaccount',
  serviceaccounts: 'serviceaccount',
  roles: 'role',
  rolebindings: 'rolebinding',
  clusterroles: 'clusterrole',
  clusterrolebindings: 'clusterrolebinding',
  no: 'node',
  nodes: 'node',
  pv: 'persistentvolume',
  persistentvolumes: 'persistentvolume',
  gatewayclasses: 'gatewayclass',
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

/**
 * Kinds Kubernetes serves cluster-scoped (no namespace), by kind name: the core and well-known groups'
 * cluster-scoped resources (`kubectl api-resources --namespaced=false` on a 1.32 cluster) plus the
 * Gateway API's GatewayClass. A custom kind not listed here is judged by the CRD that defines it (in the
 * suite's manifests, or on the live cluster through discovery).
 */
const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'ComponentStatus',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'APIService',
  'StorageClass',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'PriorityClass',
  'RuntimeClass',
  'IngressClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'CertificateSigningRequest',
  'FlowSchema',
  'PriorityLevelConfiguration',
  'TokenReview',
  'SubjectAccessReview',
  'SelfSubjectAccessReview',
  'SelfSubjectRulesReview',
  'SelfSubjectReview',
  'GatewayClass',
]);

const NAMESPACED_KINDS = new Set([
  ...Object.values(KINDS)
    .filter((k) => k.namespaced)
    .map((k) => k.kind),
  'Endpoints',
  'EndpointSlice',
  'Lease',
  'Job',
  'CronJob',
  'Ingress',
  'NetworkPolicy',
  'PodDisruptionBudget',
  'HorizontalPodAutoscaler',
  'LimitRange',
  'ResourceQuota',
  'PodTemplate',
  'ControllerRevision',
  'ReferenceGrant',
  'GRPCRoute',
  'TLSRoute',
  'TCPRoute',
  'UDPRoute',
  'InferenceModel',
  'InferenceObjective',
]);

export type Scope = 'namespaced' | 'cluster' | 'unknown';

/** The scope of a kind as far as it is known without asking a cluster. */
export function knownScope(kind: string): Scope {
  if (CLUSTER_SCOPED_KINDS.has(kind)) return 'cluster';
  if (NAMESPACED_KINDS.has(kind)) return 'namespaced';
  return 'unknown';
}

/** `kind/name` as written in `spec.target.clusterScoped` -> the kind's canonical name (Kind) and the name. */
export function parseKindName(text: string): { kind: string; name: string } | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1) return undefined;
  const raw = text.slice(0, slash);
  const lower = raw.toLowerCase();
  const key = ALIASES[lower] ?? lower;
  const kind = KINDS[key]?.kind ?? [...CLUSTER_SCOPED_KINDS].find((k) => k.toLowerCase() === lower) ?? raw;
  return { kind, name: text.slice(slash + 1) };
}

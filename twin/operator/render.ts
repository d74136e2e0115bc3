/**
 * What the seed's SchedulerInstall operator renders, as a pure function of the SchedulerInstall:
 * the EPP ConfigMap (EndpointPickerConfig per profile), the EPP Deployment and Service, the Gateway
 * (and its GatewayClass unless the spec names an existing class) and the HTTPRoute to the InferencePool.
 */
import { stringify } from '#yaml';

export const SI_API_VERSION = 'sim.llm-d.io/v1alpha1';
export const SI_KIND = 'SchedulerInstall';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'llm-sched-operator';
/** Names the SchedulerInstall an object belongs to (also on the cluster-scoped GatewayClass, which cannot carry an ownerReference). */
export const OWNER_LABEL = 'sim.llm-d.io/schedulerinstall';

export const EPP_NAME = 'gaie-inference-scheduling-epp';
export const EPP_CONFIG_NAME = 'gaie-inference-scheduling-epp-config';
export const EPP_CONFIG_KEY = 'epp-config.yaml';
/**
 * The seed's cluster ran an instrumented build of the v0.4.0 EPP (the seed README links the plan that builds
 * it): only that build writes "Scoring decision" lines. On the twin an image whose name contains
 * `instrumented` behaves so; `ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0` (or GAIE's
 * `registry.k8s.io/gateway-api-inference-extension/epp:v1.2.0`) behaves as the stock EPP.
 */
export const EPP_IMAGE = 'ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0-instrumented';
/** The GAIE chart's default `-v` (config/charts/inferencepool/values.yaml `flags.v: 1`, v1.2.0). */
export const EPP_DEFAULT_VERBOSITY = 1;
export const EPP_PORTS = { grpc: 9002, grpcHealth: 9003, metrics: 9090 } as const;
export const GATEWAY_NAME = 'infra-inference-scheduling-inference-gateway';
export const GATEWAY_CONTROLLER = 'sim.llm-d.io/gateway-controller';
export const ROUTE_NAME = 'llm-d-inference-scheduling';
export const DEFAULT_POOL = { name: 'vllm-proxy-performance', namespace: 'llm-d-vllm', port: 8080 } as const;

export const CONFIG_PROFILES = ['default', 'proxy-performance', 'proxy-performance-by-backend'] as const;
export type ConfigProfile = (typeof CONFIG_PROFILES)[number];

export interface SchedulerInstall {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; uid?: string; generation?: number };
  spec?: {
    epp?: { configProfile?: string; image?: string; replicas?: number; verbosity?: number };
    inferencePool?: { name?: string; namespace?: string; port?: number };
    gateway?: { name?: string; className?: string; port?: number };
  };
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
  };
  [field: string]: unknown;
}

/** The SchedulerInstall cannot be rendered (e.g. an unknown profile when the API server did not enforce the enum). */
export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

interface PluginEntry {
  type: string;
  name?: string;
  parameters?: Record<string, unknown>;
}
export interface EndpointPickerConfig {
  apiVersion: 'inference.networking.x-k8s.io/v1alpha1';
  kind: 'EndpointPickerConfig';
  plugins: PluginEntry[];
  schedulingProfiles: Array<{ name: string; plugins: Array<{ pluginRef: string; weight?: number }> }>;
}

function isProfile(p: string): p is ConfigProfile {
  return (CONFIG_PROFILES as readonly string[]).includes(p);
}

/** The EndpointPickerConfig for one profile (facts.md §2). */
export function eppConfig(profile: ConfigProfile): EndpointPickerConfig {
  const base = { apiVersion: 'inference.networking.x-k8s.io/v1alpha1', kind: 'EndpointPickerConfig' } as const;
  if (profile === 'default') {
    // The GAIE default: load-aware scoring on queue depth and KV cache usage.
    return {
      ...base,
      plugins: [
        { type: 'queue-scorer' },
        { type: 'kv-cache-utilization-scorer' },
        { type: 'max-score-picker' },
        { type: 'single-profile-handler' },
      ],
      schedulingProfiles: [
        {
          name: 'default',
          plugins: [
            { pluginRef: 'queue-scorer', weight: 1 },
            { pluginRef: 'kv-cache-utilization-scorer', weight: 1 },
            { pluginRef: 'max-score-picker' },
          ],
        },
      ],
    };
  }
  const plugins: PluginEntry[] = [
    { type: 'active-request-scorer', parameters: { requestTimeout: '2m' } },
    { type: 'max-score-picker' },
    { type: 'single-profile-handler' },
  ];
  const refs: Array<{ pluginRef: string; weight?: number }> = [
    { pluginRef: 'max-score-picker' },
    { pluginRef: 'active-request-scorer', weight: 1 },
  ];
  if (profile === 'proxy-performance-by-backend') {
    plugins.unshift({
      type: 'by-label-selector',
      name: 'by-kv-backend',
      parameters: { matchLabels: { 'llm-d.ai/kv-backend': 'nvlink' } },
    });
    refs.unshift({ pluginRef: 'by-kv-backend' });
  }
  return { ...base, plugins, schedulingProfiles: [{ name: 'default', plugins: refs }] };
}

export function eppConfigYaml(profile: ConfigProfile): string {
  return stringify(eppConfig(profile), { lineWidth: 0 });
}

/** The spec with defaults filled in; throws RenderError on what the CRD schema would reject. */
export function resolveSpec(si: SchedulerInstall) {
  const spec = si.spec ?? {};
  const profile = spec.epp?.configProfile ?? 'default';
  if (!isProfile(profile)) {
    throw new RenderError(`spec.epp.configProfile "${profile}" is not one of ${CONFIG_PROFILES.join(', ')}`);
  }
  const replicas = spec.epp?.replicas ?? 1;
  if (!Number.isInteger(replicas) || replicas < 0) throw new RenderError(`spec.epp.replicas must be a non-negative integer`);
  const verbosity = spec.epp?.verbosity ?? EPP_DEFAULT_VERBOSITY;
  if (!Number.isInteger(verbosity) || verbosity < 0 || verbosity > 10) throw new RenderError(`spec.epp.verbosity must be an integer 0..10`);
  return {
    profile,
    image: spec.epp?.image || EPP_IMAGE,
    verbosity,
    replicas,
    pool: {
      name: spec.inferencePool?.name || DEFAULT_POOL.name,
      namespace: spec.inferencePool?.namespace || DEFAULT_POOL.namespace,
      port: spec.inferencePool?.port ?? DEFAULT_POOL.port,
    },
    gateway: {
      name: spec.gateway?.name || GATEWAY_NAME,
      className: spec.gateway?.className || undefined,
      port: spec.gateway?.port ?? 80,
    },
  };
}

export function ownerReference(si: SchedulerInstall): OwnerReference {
  if (!si.metadata.uid) throw new RenderError(`SchedulerInstall ${si.metadata.namespace}/${si.metadata.name} has no uid`);
  return {
    apiVersion: SI_API_VERSION,
    kind: SI_KIND,
    name: si.metadata.name,
    uid: si.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Every object the operator owns for this SchedulerInstall, in apply order. */
export function renderSchedulerInstall(si: SchedulerInstall): RenderedObject[] {
  const s = resolveSpec(si);
  const namespace = si.metadata.namespace;
  const owner = ownerReference(si);
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY, [OWNER_LABEL]: si.metadata.name };
  const meta = (name: string, extra: Record<string, string> = {}) => ({
    name,
    namespace,
    labels: { ...extra, ...labels },
    ownerReferences: [owner],
  });
  const eppLabels = { app: EPP_NAME };

  const objects: RenderedObject[] = [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(EPP_CONFIG_NAME),
      data: { [EPP_CONFIG_KEY]: eppConfigYaml(s.profile) },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(EPP_NAME, eppLabels),
      spec: {
        replicas: s.replicas,
        selector: { matchLabels: eppLabels },
        // No config-hash annotation on the template, on purpose: like the seed's operator, a profile
        // change rewrites the ConfigMap only and the EPP keeps its old config until a rollout restart.
        template: {
          metadata: { labels: eppLabels },
          spec: {
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'epp',
                image: s.image,
                imagePullPolicy: 'IfNotPresent',
                args: [
                  '--pool-name',
                  s.pool.name,
                  '--pool-namespace',
                  s.pool.namespace,
                  '--config-file',
                  `/config/${EPP_CONFIG_KEY}`,
                  `--grpc-port=${EPP_PORTS.grpc}`,
                  `--grpc-health-port=${EPP_PORTS.grpcHealth}`,
                  `--metrics-port=${EPP_PORTS.metrics}`,
                  '--zap-encoder=json',
                  `-v=${s.verbosity}`,
                ],
                ports: [
                  { name: 'grpc', containerPort: EPP_PORTS.grpc },
                  { name: 'grpc-health', containerPort: EPP_PORTS.grpcHealth },
                  { name: 'metrics', containerPort: EPP_PORTS.metrics },
                ],
                // The real EPP answers a gRPC health check on 9003 (probe `grpc: {port: 9003, service:
                // inference-extension}`); the twin's EPP answers HTTP GET /healthz there instead.
                readinessProbe: { httpGet: { path: '/healthz', port: EPP_PORTS.grpcHealth }, periodSeconds: 2 },
                volumeMounts: [{ name: 'plugins-config', mountPath: '/config', readOnly: true }],
              },
            ],
            volumes: [{ name: 'plugins-config', configMap: { name: EPP_CONFIG_NAME } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(EPP_NAME, eppLabels),
      spec: {
        type: 'ClusterIP',
        selector: eppLabels,
        ports: [
          { name: 'grpc', port: EPP_PORTS.grpc, targetPort: EPP_PORTS.grpc, protocol: 'TCP', appProtocol: 'http2' },
          { name: 'grpc-health', port: EPP_PORTS.grpcHealth, targetPort: EPP_PORTS.grpcHealth, protocol: 'TCP' },
          { name: 'metrics', port: EPP_PORTS.metrics, targetPort: EPP_PORTS.metrics, protocol: 'TCP' },
        ],
      },
    },
  ];

  let className = s.gateway.className;
  if (!className) {
    className = s.gateway.name;
    // Cluster-scoped: an ownerReference to a namespaced owner is invalid in Kubernetes, so the
    // GatewayClass carries the owner only as labels and an annotation.
    objects.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: {
        name: className,
        labels: { ...labels },
        annotations: { 'sim.llm-d.io/owner': `${namespace}/${si.metadata.name}` },
      },
      spec: { controllerName: GATEWAY_CONTROLLER, description: 'Gateway rendered by the SchedulerInstall operator' },
    });
  }
  objects.push(
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: meta(s.gateway.name),
      spec: {
        gatewayClassName: className,
        listeners: [{ name: 'http', port: s.gateway.port, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }],
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: meta(ROUTE_NAME),
      spec: {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: s.gateway.name }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [
              {
                group: 'inference.networking.k8s.io',
                kind: 'InferencePool',
                name: s.pool.name,
                namespace: s.pool.namespace,
                port: s.pool.port,
              },
            ],
          },
        ],
      },
    },
  );
  return objects;
}

/** The EPP pods' label (the Deployment's selector and the Service's). */
export const EPP_POD_SELECTOR = `app=${EPP_NAME}`;

export interface EppPodAddress {
  ip: string;
  /** The pod's name (Endpoints targetRef). */
  pod: string;
  ready: boolean;
}

/**
 * The EPP Service in the pool's namespace, when the pool lives elsewhere than the EPP.
 *
 * An InferencePool's endpointPickerRef names a Service in the pool's own namespace, and GAIE v1.2.0
 * api/v1/inferencepool_types.go says implementations MUST NOT support ExternalName Services there. The seed
 * keeps the EPP in llm-d-inference-scheduler and the pool beside the proxies in llm-d-vllm; so the operator
 * renders `gaie-inference-scheduling-epp` in the pool's namespace as a Service without a selector (ClusterIP,
 * which every gateway resolves) and keeps its Endpoints (Kubernetes mirrors them into EndpointSlices) on the
 * EPP pods' addresses, the way a Service for endpoints outside the namespace is written by hand.
 * No ownerReference: a namespaced owner in another namespace is invalid (the GC treats it as absent).
 */
export function renderEppBridge(si: SchedulerInstall, pods: readonly EppPodAddress[]): RenderedObject[] {
  const s = resolveSpec(si);
  if (s.pool.namespace === si.metadata.namespace) return [];
  const metadata = {
    name: EPP_NAME,
    namespace: s.pool.namespace,
    labels: { app: EPP_NAME, [MANAGED_BY_LABEL]: MANAGED_BY, [OWNER_LABEL]: si.metadata.name },
    annotations: {
      'sim.llm-d.io/owner': `${si.metadata.namespace}/${si.metadata.name}`,
      'sim.llm-d.io/endpoints-of': `${si.metadata.namespace}/${EPP_NAME}`,
    },
  };
  const ports = [
    { name: 'grpc', port: EPP_PORTS.grpc, protocol: 'TCP' },
    { name: 'grpc-health', port: EPP_PORTS.grpcHealth, protocol: 'TCP' },
    { name: 'metrics', port: EPP_PORTS.metrics, protocol: 'TCP' },
  ];
  const sorted = [...pods].sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  const addr = (p: EppPodAddress) => ({ ip: p.ip, targetRef: { kind: 'Pod', namespace: si.metadata.namespace, name: p.pod } });
  const ready = sorted.filter((p) => p.ready).map(addr);
  const notReady = sorted.filter((p) => !p.ready).map(addr);
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: {
        type: 'ClusterIP',
        ports: ports.map((p) => ({ ...p, targetPort: p.port, ...(p.name === 'grpc' ? { appProtocol: 'http2' } : {}) })),
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata,
      subsets:
        ready.length || notReady.length
          ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports }]
          : [],
    },
  ];
}

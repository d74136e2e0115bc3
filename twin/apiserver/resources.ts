/** The registry of served resource types: built-in kinds plus whatever CRDs define. */
import type { Obj } from './selectors.ts';

export interface ScaleSpec {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string;
  /** Served versions; the first is the storage / preferred one. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  categories?: string[];
  status: boolean;
  scale?: ScaleSpec;
  /** Extra subresources beyond status/scale (pods: log, binding, eviction). */
  extraSubresources?: string[];
  printerColumns?: PrinterColumn[];
  crd?: boolean;
  /** CRDs: each served version's openAPIV3Schema (defaulting, validation, x-kubernetes-validations). */
  schemas?: Record<string, Obj>;
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const core = (
  plural: string,
  kind: string,
  namespaced: boolean,
  shortNames: string[] = [],
  extra: Partial<ResourceType> = {},
): ResourceType => ({
  group: '',
  versions: ['v1'],
  plural,
  singular: kind.toLowerCase(),
  kind,
  namespaced,
  shortNames,
  status: false,
  ...extra,
});

const replicaScale: ScaleSpec = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  labelSelectorPath: '.status.selector',
};

export const BUILTIN_TYPES: ResourceType[] = [
  core('namespaces', 'Namespace', false, ['ns'], { status: true }),
  core('nodes', 'Node', false, ['no'], { status: true }),
  core('pods', 'Pod', true, ['po'], { status: true, extraSubresources: ['log', 'binding', 'exec'], categories: ['all'] }),
  core('services', 'Service', true, ['svc'], { status: true, categories: ['all'] }),
  core('endpoints', 'Endpoints', true, ['ep'], { singular: 'endpoints' }),
  core('configmaps', 'ConfigMap', true, ['cm']),
  core('secrets', 'Secret', true),
  core('events', 'Event', true, ['ev']),
  core('serviceaccounts', 'ServiceAccount', true, ['sa']),
  core('persistentvolumeclaims', 'PersistentVolumeClaim', true, ['pvc'], { status: true }),
  core('persistentvolumes', 'PersistentVolume', false, ['pv'], { status: true }),
  {
    group: 'apps',
    versions: ['v1'],
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    status: true,
    scale: replicaScale,
    categories: ['all'],
  },
  {
    group: 'apps',
    versions: ['v1'],
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    status: true,
    scale: replicaScale,
    categories: ['all'],
  },
  {
    group: 'batch',
    versions: ['v1'],
    plural: 'jobs',
    singular: 'job',
    kind: 'Job',
    namespaced: true,
    shortNames: [],
    status: true,
    categories: ['all'],
  },
  {
    group: 'discovery.k8s.io',
    versions: ['v1'],
    plural: 'endpointslices',
    singular: 'endpointslice',
    kind: 'EndpointSlice',
    namespaced: true,
    shortNames: [],
    status: false,
  },
  {
    group: 'events.k8s.io',
    versions: ['v1'],
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    status: false,
  },
  {
    group: 'coordination.k8s.io',
    versions: ['v1'],
    plural: 'leases',
    singular: 'lease',
    kind: 'Lease',
    namespaced: true,
    shortNames: [],
    status: false,
  },
  {
    group: 'apiextensions.k8s.io',
    versions: ['v1'],
    plural: 'customresourcedefinitions',
    singular: 'customresourcedefinition',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    status: true,
  },
];

/** Kinds whose group-version is reported as `autoscaling/v1 Scale` etc. */
export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

export function typeKey(group: string, plural: string): string {
  return `${group}/${plural}`;
}

export class ResourceRegistry {
  private readonly byKey = new Map<string, ResourceType>();

  constructor(types: ResourceType[] = BUILTIN_TYPES) {
    for (const t of types) this.add(t);
  }

  add(t: ResourceType): void {
    this.byKey.set(typeKey(t.group, t.plural), t);
  }

  remove(group: string, plural: string): void {
    this.byKey.delete(typeKey(group, plural));
  }

  get(group: string, plural: string): ResourceType | undefined {
    return this.byKey.get(typeKey(group, plural));
  }

  /** The type served at GROUP/VERSION/PLURAL, if that version is served. */
  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    const t = this.get(group, plural);
    return t && t.versions.includes(version) ? t : undefined;
  }

  byKind(group: string, kind: string): ResourceType | undefined {
    for (const t of this.byKey.values()) if (t.group === group && t.kind === kind) return t;
    return undefined;
  }

  all(): ResourceType[] {
    return [...this.byKey.values()];
  }

  /** Group name -> versions, core ('') first then the rest in registration order. */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.byKey.values()) {
      const vs = out.get(t.group) ?? [];
      for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
      out.set(t.group, vs);
    }
    return out;
  }

  inGroupVersion(group: string, version: string): ResourceType[] {
    return this.all().filter((t) => t.group === group && t.versions.includes(version));
  }
}

/** A CRD object as a resource type (served versions only, storage version first). */
export function typeFromCrd(crd: Obj): ResourceType | undefined {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  if (!spec.group || !names.plural || !names.kind) return undefined;
  const versions = ((spec.versions ?? []) as Obj[]).filter((v) => v.served !== false);
  if (versions.length === 0) return undefined;
  versions.sort((a, b) => Number(!!b.storage) - Number(!!a.storage));
  const first = versions[0]!;
  const sub = first.subresources ?? spec.subresources ?? {};
  const cols = (first.additionalPrinterColumns ?? spec.additionalPrinterColumns ?? []) as Obj[];
  return {
    group: String(spec.group),
    versions: versions.map((v) => String(v.name)),
    plural: String(names.plural),
    singular: String(names.singular ?? String(names.kind).toLowerCase()),
    kind: String(names.kind),
    namespaced: spec.scope !== 'Cluster',
    shortNames: ((names.shortNames ?? []) as unknown[]).map(String),
    categories: ((names.categories ?? []) as unknown[]).map(String),
    status: sub.status !== undefined,
    ...(sub.scale ? { scale: sub.scale as ScaleSpec } : {}),
    printerColumns: cols.map((c) => ({
      name: String(c.name),
      type: String(c.type ?? 'string'),
      jsonPath: String(c.jsonPath ?? c.JSONPath ?? ''),
      ...(c.description ? { description: String(c.description) } : {}),
      ...(c.priority ? { priority: Number(c.priority) } : {}),
      ...(c.format ? { format: String(c.format) } : {}),
    })),
    crd: true,
    schemas: Object.fromEntries(
      versions.filter((v) => v.schema?.openAPIV3Schema).map((v) => [String(v.name), v.schema.openAPIV3Schema as Obj]),
    ),
  };
}

/**
 * The write set of a run: every object a suite run may create, patch or delete (its cleanup included),
 * computed before anything is sent. Pure: manifests are read by the caller; the live cluster refines
 * scopes and default namespaces later (runner/run-plan.ts).
 */
import { relative } from 'node:path';
import type { ManifestObject } from '../cluster/manifests.ts';
import { knownScope, parseRef, type Scope } from '../cluster/refs.ts';
import type { LoadEngineName } from '../load/plan.ts';
import type { Suite } from '../suites/schema.ts';
import { faultBody } from './faults/common.ts';
import { faultWrites } from './faults/index.ts';

/** API verbs, as RBAC and SelfSubjectAccessReview name them. */
export type Verb = 'get' | 'list' | 'create' | 'patch' | 'delete';

export interface PlannedWrite {
  /** Where in the suite it comes from, e.g. `spec.deploy[2] (manifests/x.yaml)`, `spec.setup[0].patch`. */
  source: string;
  apiVersion: string;
  kind: string;
  /** `*` when the run chooses the objects by a selector (pods a fault kills). */
  name: string;
  /** Absent for cluster-scoped objects. */
  namespace?: string;
  scope: Scope;
  /** True when the object names no namespace and gets the client's default one. */
  defaultedNamespace?: boolean;
  /** Every verb the run (and its cleanup) needs on it. */
  verbs: Verb[];
  /** What happens to it, in words. */
  what: string;
}

export interface WriteSetInput {
  suite: Suite;
  /** spec.deploy[i] -> its objects. */
  deploy: { path: string; objects: ManifestObject[] }[];
  /** spec.setup[i].apply -> its objects, by setup index. */
  applies: Map<number, ManifestObject[]>;
  /** The engine the run uses (the suite's, or --engine). */
  engine: LoadEngineName;
  /** The namespace objects without one go to (the kubeconfig context's; `default` when unknown). */
  defaultNamespace?: string;
}

const APPLY_VERBS: Verb[] = ['get', 'create', 'patch', 'delete'];
const APPLY_WHAT = 'server-side apply; deleted at cleanup if created, else put back as it was';

/** The namespace engine k6-operator creates its ConfigMap and TestRun in. */
export function loadNamespaceOf(suite: Suite): string {
  return suite.spec.target.loadNamespace ?? suite.spec.target.namespaces[0]!;
}

export function computeWriteSet(input: WriteSetInput): PlannedWrite[] {
  const { suite } = input;
  const defaultNs = input.defaultNamespace ?? 'default';
  const crdScopes = crdScopesOf([...input.deploy.flatMap((d) => d.objects), ...[...input.applies.values()].flat()]);
  const fromManifest = (source: string, o: ManifestObject): PlannedWrite => {
    const scope = scopeOf(o.kind, o.apiVersion, crdScopes);
    const ns = o.metadata.namespace;
    const base = { source, apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, scope, verbs: APPLY_VERBS, what: APPLY_WHAT };
    if (scope === 'cluster') return base;
    if (ns) return { ...base, namespace: ns };
    return { ...base, namespace: defaultNs, defaultedNamespace: true };
  };
  const out: PlannedWrite[] = [];
  input.deploy.forEach((d, i) => {
    for (const o of d.objects) out.push(fromManifest(`spec.deploy[${i}] (${relative(process.cwd(), d.path) || d.path})`, o));
  });
  suite.spec.setup.forEach((step, i) => {
    if ('apply' in step && step.apply) {
      for (const o of input.applies.get(i) ?? [])
        out.push(fromManifest(`spec.setup[${i}].apply (${relative(process.cwd(), step.apply.file) || step.apply.file})`, o));
    } else if ('patch' in step && step.patch) {
      out.push(
        fromRef(
          `spec.setup[${i}].patch`,
          step.patch.ref,
          step.patch.namespace,
          ['get', 'patch'],
          `${step.patch.merge ? 'merge' : 'JSON'} patch; the patched fields are put back at cleanup`,
        ),
      );
    } else if ('rolloutRestart' in step && step.rolloutRestart) {
      out.push(
        fromRef(
          `spec.setup[${i}].rolloutRestart`,
          step.rolloutRestart.ref,
          step.rolloutRestart.namespace,
          ['get', 'patch'],
          'rollout restart (a pod-template annotation)',
        ),
      );
    }
  });
  suite.spec.faults.forEach((fault, i) => {
    const { kind, body } = faultBody(fault);
    const source = `spec.faults[${i}].${kind}`;
    const ns = body.namespace;
    out.push(
      ...faultWrites(kind, body, {
        pods: (what, verbs) => ({ source, apiVersion: 'v1', kind: 'Pod', name: '*', namespace: ns, scope: 'namespaced', verbs, what }),
        ref: (text, verbs, what) => fromRef(source, text, ns, verbs, what),
      }),
    );
  });
  if (suite.spec.load && input.engine === 'k6-operator') {
    const ns = loadNamespaceOf(suite);
    const what = 'created for the load, deleted when it ends';
    out.push({
      source: 'spec.load (engine k6-operator)',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: '*',
      namespace: ns,
      scope: 'namespaced',
      verbs: ['create', 'delete'],
      what: `the k6 script; ${what}`,
    });
    out.push({
      source: 'spec.load (engine k6-operator)',
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      name: '*',
      namespace: ns,
      scope: 'namespaced',
      verbs: ['create', 'get', 'delete'],
      what: `runs the k6 script; ${what}`,
    });
  }
  return out;
}

function fromRef(source: string, text: string, namespace: string, verbs: Verb[], what: string): PlannedWrite {
  const ref = parseRef(text, namespace);
  return {
    source,
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    name: ref.name,
    ...(ref.namespaced ? { namespace } : {}),
    scope: ref.namespaced ? 'namespaced' : 'cluster',
    verbs,
    what,
  };
}

/** Kind -> scope for the custom kinds the manifests' own CRDs define. */
export function crdScopesOf(objects: readonly ManifestObject[]): Map<string, Scope> {
  const out = new Map<string, Scope>();
  for (const o of objects) {
    if (o.kind !== 'CustomResourceDefinition') continue;
    const spec = o.spec as { group?: string; scope?: string; names?: { kind?: string } } | undefined;
    if (!spec?.group || !spec.names?.kind) continue;
    out.set(`${spec.group}|${spec.names.kind}`, spec.scope === 'Cluster' ? 'cluster' : 'namespaced');
  }
  return out;
}

function scopeOf(kind: string, apiVersion: string, crdScopes: Map<string, Scope>): Scope {
  const known = knownScope(kind);
  if (known !== 'unknown') return known;
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.lastIndexOf('/')) : '';
  return crdScopes.get(`${group}|${kind}`) ?? 'unknown';
}

/** `Kind/name -n ns` (or without -n for cluster-scoped ones). */
export function describeWrite(w: PlannedWrite): string {
  return `${w.kind}/${w.name}${w.namespace !== undefined ? ` -n ${w.namespace}` : ' (cluster-scoped)'}`;
}

/**
 * The object layer with Kubernetes semantics on top of the raw store: metadata, generation, status
 * subresource, validation, graceful pod deletion, finalizers, owner propagation, CRDs. Used by the HTTP
 * handlers and, directly, by the in-process controllers.
 */
import { randomUUID } from 'node:crypto';
import { applyCreateDefaults } from './defaults.ts';
import { applyJsonPatch, jsonMergePatch, strategicMergePatch } from './patch.ts';
import type { PatchType } from './patch.ts';
import { ResourceRegistry, apiVersionOf, typeFromCrd, typeKey } from './resources.ts';
import type { ResourceType } from './resources.ts';
import { fromLabelSelectorObject, matchFields, matchLabels, selectorToString } from './selectors.ts';
import type { Obj, Selector } from './selectors.ts';
import { serverSideApply } from './ssa.ts';
import { ApiError, errors } from './status.ts';
import { Store } from './store.ts';
import { validateObject } from './validate.ts';
import { applySchemaDefaults, validateCustomResource } from './crd-schema.ts';
import { toCause } from './field-errors.ts';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
  return s;
}

export function nowTimestamp(at = Date.now()): string {
  return new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

export interface ListOptions {
  labelSelector?: Selector;
  fieldSelector?: Selector;
}

/** The content of an object that `generation` tracks: everything but metadata and status. */
function specOf(o: Obj): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
}

/** An object's content for no-op detection: ignores resourceVersion and managedFields timestamps. */
function withoutRv(o: Obj): string {
  const c = { ...o, metadata: { ...o.metadata } };
  delete c.metadata.resourceVersion;
  if (Array.isArray(c.metadata.managedFields))
    c.metadata.managedFields = (c.metadata.managedFields as Obj[]).map(({ time: _t, ...m }) => m);
  return JSON.stringify(c);
}

function getPath(obj: Obj, path: string): any {
  let cur: any = obj;
  for (const seg of path.replace(/^\./, '').split('.')) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = cur[seg];
  }
  return cur;
}

function setPath(obj: Obj, path: string, value: unknown): void {
  const segs = path.replace(/^\./, '').split('.');
  let cur: any = obj;
  for (const seg of segs.slice(0, -1)) cur = cur[seg] ??= {};
  cur[segs[segs.length - 1]!] = value;
}

export class Api {
  readonly store: Store;
  readonly registry = new ResourceRegistry();

  constructor(opts: { historyLimit?: number } = {}) {
    this.store = new Store(opts.historyLimit);
  }

  // ---- reads ---------------------------------------------------------------------------------------

  get(t: ResourceType, ns: string | undefined, name: string): Obj {
    const o = this.store.get(typeKey(t.group, t.plural), t.namespaced ? ns : undefined, name);
    if (!o) throw errors.notFound(t.group, t.plural, name);
    return o;
  }

  tryGet(t: ResourceType, ns: string | undefined, name: string): Obj | undefined {
    return this.store.get(typeKey(t.group, t.plural), t.namespaced ? ns : undefined, name);
  }

  /** The stored object itself, not a copy: for in-process controllers that only read it. */
  peek(t: ResourceType, ns: string | undefined, name: string): Readonly<Obj> | undefined {
    return this.store.peekOne(typeKey(t.group, t.plural), t.namespaced ? ns : undefined, name);
  }

  list(t: ResourceType, ns: string | undefined, opts: ListOptions = {}): { items: Obj[]; resourceVersion: string } {
    const rv = String(this.store.currentRv());
    const items = this.store.list(typeKey(t.group, t.plural), t.namespaced ? ns : undefined).filter((o) => this.matches(o, opts));
    return { items, resourceVersion: rv };
  }

  matches(o: Obj, opts: ListOptions): boolean {
    return (
      (!opts.labelSelector || matchLabels(opts.labelSelector, o.metadata?.labels)) &&
      (!opts.fieldSelector || matchFields(opts.fieldSelector, o))
    );
  }

  type(group: string, plural: string): ResourceType {
    const t = this.registry.get(group, plural);
    if (!t) throw errors.pathNotFound();
    return t;
  }

  // ---- create ---------------------------------------------------------------------------------------

  create(t: ResourceType, ns: string | undefined, body: unknown, opts: WriteOptions & { keepStatus?: boolean } = {}): Obj {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw errors.badRequest(
        'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
      );
    const obj = structuredClone(body) as Obj;
    if (obj.kind && obj.kind !== t.kind)
      throw errors.badRequest(`the kind of the object (${obj.kind}) does not match the kind on the URL (${t.kind})`);
    obj.metadata = obj.metadata && typeof obj.metadata === 'object' ? obj.metadata : {};
    const md = obj.metadata;
    if (t.namespaced) {
      if (md.namespace && ns && md.namespace !== ns)
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      md.namespace = ns ?? md.namespace ?? 'default';
      this.checkNamespaceWritable(md.namespace);
    } else delete md.namespace;
    if (!md.name && md.generateName) {
      for (let i = 0; i < 8 && (!md.name || this.tryGet(t, md.namespace, md.name)); i++) md.name = `${md.generateName}${randomSuffix()}`;
    }
    const status = obj.status;
    applyCreateDefaults(t.kind, t.group, obj);
    if (opts.keepStatus && status !== undefined) obj.status = status;
    else if (t.status && t.crd) delete obj.status;
    applySchemaDefaults(this.schemaOf(t, obj), obj);
    this.validate(t, obj);
    if (this.tryGet(t, md.namespace, md.name)) throw errors.alreadyExists(t.group, t.plural, md.name);
    obj.apiVersion = apiVersionOf(t.group, t.versions[0]!);
    obj.kind = t.kind;
    md.uid = randomUUID();
    md.creationTimestamp = nowTimestamp();
    delete md.resourceVersion;
    delete md.deletionTimestamp;
    delete md.deletionGracePeriodSeconds;
    if ('spec' in obj || t.crd) md.generation = 1;
    if (opts.fieldManager && !md.managedFields) md.managedFields = [this.managedEntry(opts.fieldManager, 'Update', obj)];
    this.beforeWrite(t, obj, undefined);
    if (opts.dryRun) return obj;
    const stored = this.store.put(typeKey(t.group, t.plural), obj);
    this.afterWrite(t, stored, undefined);
    return stored;
  }

  private checkNamespaceWritable(ns: string): void {
    const nsObj = this.store.get(typeKey('', 'namespaces'), undefined, ns);
    if (!nsObj) throw errors.notFound('', 'namespaces', ns);
    if (nsObj.metadata.deletionTimestamp)
      throw new ApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, {
        name: ns,
        kind: 'namespaces',
      });
  }

  private validate(t: ResourceType, obj: Obj, old?: Obj): void {
    const causes = validateObject(t.kind, t.group, obj);
    const schema = this.schemaOf(t, obj);
    if (schema) causes.push(...validateCustomResource(schema, obj, old).map(toCause));
    if (causes.length) throw errors.invalid(t.kind, t.group, obj.metadata?.name ?? obj.metadata?.generateName ?? '', causes);
  }

  /** A custom resource's schema: the one of its apiVersion when served, else the storage version's. */
  private schemaOf(t: ResourceType, obj: Obj): Obj | undefined {
    if (!t.crd || !t.schemas) return undefined;
    const v = typeof obj.apiVersion === 'string' ? obj.apiVersion.split('/').pop()! : '';
    return t.schemas[v] ?? t.schemas[t.versions[0]!];
  }

  private managedEntry(manager: string, operation: 'Apply' | 'Update', obj: Obj): Obj {
    return { manager, operation, apiVersion: obj.apiVersion, time: nowTimestamp(), fieldsType: 'FieldsV1', fieldsV1: {} };
  }

  // ---- update ---------------------------------------------------------------------------------------

  update(t: ResourceType, ns: string | undefined, name: string, body: unknown, opts: WriteOptions & { subresource?: 'status' } = {}): Obj {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw errors.badRequest(
        'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml',
      );
    const incoming = structuredClone(body) as Obj;
    incoming.metadata ??= {};
    if (incoming.metadata.name && incoming.metadata.name !== name)
      throw errors.badRequest(`the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`);
    if (t.namespaced && incoming.metadata.namespace && ns && incoming.metadata.namespace !== ns)
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const cur = this.get(t, ns, name);
    const wantRv = incoming.metadata.resourceVersion;
    if (wantRv && String(wantRv) !== cur.metadata.resourceVersion) throw errors.conflict(t.group, t.plural, name);
    let next: Obj;
    if (opts.subresource === 'status') {
      next = { ...cur, status: incoming.status };
    } else {
      next = { ...incoming, metadata: { ...incoming.metadata } };
      if (t.status) {
        if (cur.status !== undefined) next.status = cur.status;
        else delete next.status;
      }
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        if (cur.metadata[k] !== undefined) next.metadata[k] = cur.metadata[k];
        else delete next.metadata[k];
      }
      if (!incoming.metadata.managedFields && cur.metadata.managedFields) next.metadata.managedFields = cur.metadata.managedFields;
    }
    next.metadata.name = name;
    if (t.namespaced) next.metadata.namespace = cur.metadata.namespace;
    next.apiVersion = cur.apiVersion;
    next.kind = t.kind;
    if (cur.metadata.generation !== undefined && specOf(next) !== specOf(cur))
      next.metadata.generation = (cur.metadata.generation ?? 1) + 1;
    if (t.group === 'apps' && t.kind === 'Deployment' && next.spec?.template) next.spec.template.metadata ??= {};
    applySchemaDefaults(this.schemaOf(t, next), next);
    this.validate(t, next, cur);
    // Removing the last finalizer of an object that is being deleted completes the deletion.
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length && !(t.group === '' && t.kind === 'Pod')) {
      if (opts.dryRun) return next;
      return this.remove(t, next.metadata.namespace, name) ?? next;
    }
    if (withoutRv(next) === withoutRv(cur)) return cur;
    this.beforeWrite(t, next, cur);
    if (opts.dryRun) return next;
    const stored = this.store.put(typeKey(t.group, t.plural), next);
    this.afterWrite(t, stored, cur);
    return stored;
  }

  /**
   * Read-modify-write helper for controllers: `fn` mutates a copy; no write when nothing changed. Controllers
   * call it for every object on every pass and most calls change nothing, so the stored object is compared
   * without a copy of its own (its JSON computed once per stored version). The result is read-only.
   */
  mutate(t: ResourceType, ns: string | undefined, name: string, fn: (o: Obj) => void, subresource?: 'status'): Obj | undefined {
    const cur = this.store.peekOne(typeKey(t.group, t.plural), t.namespaced ? ns : undefined, name);
    if (!cur) return undefined;
    const text = this.store.jsonOf(cur);
    const next = JSON.parse(text) as Obj; // stored objects are JSON data: the copy costs less than structuredClone
    fn(next);
    if (JSON.stringify(next) === text) return cur;
    try {
      return this.update(t, ns, name, next, subresource ? { subresource } : {});
    } catch (e) {
      if (e instanceof ApiError && (e.code === 404 || e.code === 409)) return undefined;
      throw e;
    }
  }

  // ---- patch ----------------------------------------------------------------------------------------

  patch(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    opts: WriteOptions & { subresource?: 'status'; force?: boolean } = {},
  ): Obj {
    if (type === 'apply')
      return serverSideApply(this, t, ns, name, patch, {
        fieldManager: opts.fieldManager ?? '',
        force: !!opts.force,
        ...(opts.subresource ? { subresource: opts.subresource } : {}),
        ...(opts.dryRun ? { dryRun: true } : {}),
      });
    const cur = this.get(t, ns, name);
    const patched = applyPatchOfType(cur, type, patch);
    if (!patched || typeof patched !== 'object') throw errors.badRequest('the patch did not result in an object');
    if (patched.metadata?.resourceVersion === undefined) (patched.metadata ??= {}).resourceVersion = cur.metadata.resourceVersion;
    if (opts.fieldManager) patched.metadata.managedFields = this.touchManager(cur, opts.fieldManager, 'Update');
    return this.update(t, ns, name, patched, opts);
  }

  touchManager(cur: Obj, manager: string, op: 'Apply' | 'Update'): Obj[] {
    const list = ((cur.metadata.managedFields ?? []) as Obj[]).filter((m) => !(m.manager === manager && m.operation === op));
    const prev = ((cur.metadata.managedFields ?? []) as Obj[]).find((m) => m.manager === manager && m.operation === op);
    list.push({ ...(prev ?? this.managedEntry(manager, op, cur)), time: nowTimestamp() });
    return list;
  }

  // ---- scale ----------------------------------------------------------------------------------------

  getScale(t: ResourceType, ns: string | undefined, name: string, of?: Obj): Obj {
    if (!t.scale) throw errors.pathNotFound();
    const o = of ?? this.get(t, ns, name);
    const sel = t.scale.labelSelectorPath ? getPath(o, t.scale.labelSelectorPath) : undefined;
    const selector = t.group === 'apps' ? selectorToString(fromLabelSelectorObject(o.spec?.selector)) : sel;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name,
        namespace: o.metadata.namespace,
        uid: o.metadata.uid,
        resourceVersion: o.metadata.resourceVersion,
        creationTimestamp: o.metadata.creationTimestamp,
      },
      spec: { replicas: getPath(o, t.scale.specReplicasPath) ?? 0 },
      status: { replicas: getPath(o, t.scale.statusReplicasPath) ?? 0, ...(selector ? { selector } : {}) },
    };
  }

  updateScale(t: ResourceType, ns: string | undefined, name: string, scale: Obj, dryRun = false): Obj {
    if (!t.scale) throw errors.pathNotFound();
    const replicas = scale?.spec?.replicas;
    if (typeof replicas !== 'number' || replicas < 0 || !Number.isInteger(replicas))
      throw errors.invalid('Scale', 'autoscaling', name, [
        {
          reason: 'FieldValueInvalid',
          message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
          field: 'spec.replicas',
        },
      ]);
    const cur = this.get(t, ns, name);
    const wantRv = scale.metadata?.resourceVersion;
    if (wantRv && String(wantRv) !== cur.metadata.resourceVersion) throw errors.conflict(t.group, t.plural, name);
    const next = structuredClone(cur);
    setPath(next, t.scale.specReplicasPath, replicas);
    const written = this.update(t, ns, name, next, { dryRun });
    return this.getScale(t, ns, name, written);
  }

  patchScale(t: ResourceType, ns: string | undefined, name: string, type: PatchType, patch: unknown, dryRun = false): Obj {
    const scale = this.getScale(t, ns, name);
    const patched = type === 'apply' ? jsonMergePatch(scale, patch) : applyPatchOfType(scale, type, patch);
    return this.updateScale(t, ns, name, patched, dryRun);
  }

  // ---- delete ---------------------------------------------------------------------------------------

  delete(t: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions = {}): Obj {
    const cur = this.get(t, ns, name);
    if (opts.preconditions?.uid && opts.preconditions.uid !== cur.metadata.uid)
      throw errors.conflict(
        t.group,
        t.plural,
        name,
        `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${cur.metadata.uid}`,
      );
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== cur.metadata.resourceVersion)
      throw errors.conflict(
        t.group,
        t.plural,
        name,
        `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`,
      );
    const key = typeKey(t.group, t.plural);
    const md = cur.metadata;
    const policy = opts.propagationPolicy ?? (md.finalizers?.includes('orphan') ? 'Orphan' : 'Background');

    if (t.group === '' && t.kind === 'Namespace') {
      if (md.deletionTimestamp) return cur;
      const next = structuredClone(cur);
      next.metadata.deletionTimestamp = nowTimestamp();
      next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      return this.store.put(key, next);
    }
    if (policy === 'Orphan') this.orphanDependents(md.uid);

    const finalizers: string[] = [...(md.finalizers ?? [])];
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER) && this.hasDependents(md.uid))
      finalizers.push(FOREGROUND_FINALIZER);

    if (t.group === '' && t.kind === 'Pod' && md.deletionTimestamp === undefined && cur.spec?.nodeName) {
      const grace = opts.gracePeriodSeconds ?? cur.spec?.terminationGracePeriodSeconds ?? 30;
      if (grace > 0 || finalizers.length) {
        const next = structuredClone(cur);
        next.metadata.deletionTimestamp = nowTimestamp(Date.now() + Math.max(0, grace) * 1000);
        next.metadata.deletionGracePeriodSeconds = Math.max(0, grace);
        next.metadata.finalizers = finalizers.length ? finalizers : undefined;
        if (!next.metadata.finalizers) delete next.metadata.finalizers;
        return this.store.put(key, next);
      }
    } else if (t.group === '' && t.kind === 'Pod' && md.deletionTimestamp !== undefined) {
      // Already terminating: only a shorter grace period changes anything.
      if (opts.gracePeriodSeconds === undefined) return cur;
      if (opts.gracePeriodSeconds === 0 && !finalizers.length) return this.remove(t, ns, name) ?? cur;
      const end = Date.now() + opts.gracePeriodSeconds * 1000;
      if (end < Date.parse(md.deletionTimestamp)) {
        const next = structuredClone(cur);
        next.metadata.deletionTimestamp = nowTimestamp(end);
        next.metadata.deletionGracePeriodSeconds = opts.gracePeriodSeconds;
        return this.store.put(key, next);
      }
      return cur;
    }
    if (finalizers.length) {
      if (md.deletionTimestamp && JSON.stringify(finalizers) === JSON.stringify(md.finalizers ?? [])) return cur;
      const next = structuredClone(cur);
      next.metadata.deletionTimestamp ??= nowTimestamp();
      next.metadata.deletionGracePeriodSeconds ??= 0;
      next.metadata.finalizers = finalizers;
      return this.store.put(key, next);
    }
    return this.remove(t, ns, name) ?? cur;
  }

  /** Removes an object for good, with no further checks. */
  remove(t: ResourceType, ns: string | undefined, name: string): Obj | undefined {
    const gone = this.store.remove(typeKey(t.group, t.plural), t.namespaced ? ns : undefined, name);
    if (gone) this.afterDelete(t, gone);
    return gone;
  }

  deleteCollection(t: ResourceType, ns: string | undefined, list: ListOptions, opts: DeleteOptions): Obj[] {
    const out: Obj[] = [];
    for (const o of this.list(t, ns, list).items) {
      try {
        out.push(this.delete(t, o.metadata.namespace, o.metadata.name, opts));
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return out;
  }

  /** Every stored object whose ownerReferences name `uid`, with its type. */
  dependentsOf(uid: string): Array<{ t: ResourceType; o: Obj }> {
    const out: Array<{ t: ResourceType; o: Obj }> = [];
    for (const t of this.registry.all()) {
      for (const o of this.store.list(typeKey(t.group, t.plural))) {
        if (((o.metadata.ownerReferences ?? []) as Obj[]).some((r) => r.uid === uid)) out.push({ t, o });
      }
    }
    return out;
  }

  private hasDependents(uid: string): boolean {
    return this.dependentsOf(uid).length > 0;
  }

  private orphanDependents(uid: string): void {
    for (const { t, o } of this.dependentsOf(uid)) {
      this.mutate(t, o.metadata.namespace, o.metadata.name, (d) => {
        d.metadata.ownerReferences = (d.metadata.ownerReferences as Obj[]).filter((r) => r.uid !== uid);
        if (!d.metadata.ownerReferences.length) delete d.metadata.ownerReferences;
      });
    }
  }

  // ---- hooks ----------------------------------------------------------------------------------------

  private beforeWrite(t: ResourceType, obj: Obj, _old: Obj | undefined): void {
    if (t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition') {
      const ct = typeFromCrd(obj);
      const existing = ct ? this.registry.get(ct.group, ct.plural) : undefined;
      if (existing && !existing.crd)
        throw errors.invalid('CustomResourceDefinition', 'apiextensions.k8s.io', obj.metadata.name, [
          { reason: 'FieldValueInvalid', message: 'Invalid value: built-in resource', field: 'spec.names.plural' },
        ]);
      const now = nowTimestamp();
      const cond = (type: string, reason: string, message: string) => ({ type, status: 'True', lastTransitionTime: now, reason, message });
      obj.status = {
        conditions: [
          cond('NamesAccepted', 'NoConflicts', 'no conflicts found'),
          cond('Established', 'InitialNamesAccepted', 'the initial names have been accepted'),
        ],
        acceptedNames: obj.spec?.names ?? {},
        storedVersions: ((obj.spec?.versions ?? []) as Obj[]).filter((v) => v.storage).map((v) => v.name),
      };
    }
  }

  private afterWrite(t: ResourceType, obj: Obj, _old: Obj | undefined): void {
    if (t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition') {
      const ct = typeFromCrd(obj);
      if (ct) this.registry.add(ct);
    }
  }

  private afterDelete(t: ResourceType, obj: Obj): void {
    if (t.group === 'apiextensions.k8s.io' && t.kind === 'CustomResourceDefinition') {
      const ct = typeFromCrd(obj);
      if (!ct) return;
      for (const o of this.store.list(typeKey(ct.group, ct.plural)))
        this.store.remove(typeKey(ct.group, ct.plural), o.metadata.namespace, o.metadata.name);
      this.registry.remove(ct.group, ct.plural);
    }
  }
}

export function applyPatchOfType(cur: Obj, type: PatchType, patch: unknown): Obj {
  switch (type) {
    case 'merge':
      if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw errors.badRequest('merge patch must be a JSON object');
      return jsonMergePatch(cur, patch);
    case 'strategic':
      return strategicMergePatch(cur, patch);
    case 'json':
      return applyJsonPatch(cur, patch);
    case 'apply':
      return jsonMergePatch(cur, patch);
  }
}

import { request as httpsRequest, type RequestOptions } from 'node:https';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, KubernetesObjectApi, PatchStrategy, type KubeConfig, type KubernetesObject, type V1Pod } from '#client-node';
import {
  CleanupRegistry,
  describeAction,
  foldedInto,
  isNamespace,
  keyOf,
  keyString,
  markNotGone,
  namespacesToDelete,
  presentState,
  splitDeletionWaits,
  type StillPresent,
  type CleanupAction,
  type CleanupOutcome,
  type ObjectKey,
} from './cleanup.ts';

// keyOf lives with ObjectKey (pure): modules that only plan (chaos/faults) take it without the API client
export { keyOf } from './cleanup.ts';
import { DEFAULT_TIMEOUTS, formatTimeout, type TimeoutConfig } from '../core/timeouts.ts';
import { ApiStatusError, describeApiError, isNotFound } from './errors.ts';
import { checkApiServer, loadKubeConfig, type TargetInfo } from './kubeconfig.ts';
import type { ManifestObject } from './manifests.ts';
import { restorePatchFor, stripServerFields } from './patches.ts';
import type { ObjectRef } from './refs.ts';
import { waitFor } from './waits.ts';

export const FIELD_MANAGER = 'pd-harness';

export interface ConnectOptions {
  kubeconfigPath: string;
  /** Directory for cleanup journals; a run killed with SIGKILL is undone by the next one from here. */
  journalDir?: string;
  runId?: string;
  /** The timeouts in force (core/timeouts.ts): CRD Established, objects gone, cleanup. Default: the defaults. */
  timeouts?: Readonly<TimeoutConfig>;
}

type Obj = KubernetesObject & Record<string, unknown>;

/**
 * The one code path to a cluster, the twin or a real one. Every object it creates or patches is
 * registered for cleanup at that moment; `teardown()` deletes what it created and restores what it patched.
 */
export class Cluster {
  readonly objects: KubernetesObjectApi;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly cleanup: CleanupRegistry;
  private readonly created = new Set<string>();
  /**
   * The run's timeouts in force for the driver's own waits (CRD Established, objects gone, the teardown). A run
   * sets them once it has resolved them (the Playwright fixture connects before the suite is known).
   */
  timeouts: Readonly<TimeoutConfig> = DEFAULT_TIMEOUTS;
  /**
   * The Namespaces the last `teardown({ deferNamespaces: true })` deleted and did not wait for. Deleting a
   * namespace returns at once; the namespace controller then removes what is left in it and the namespace
   * itself, in its own time (seconds on a real cluster, kubernetes pkg/controller/namespace). Their contents
   * were deleted and waited for already; the caller waits for these before it deploys again, or when it ends.
   */
  deferredDeletions: readonly ObjectKey[] = [];
  /** teardown's first step (deleteNamespacesFirst), once however often teardown is called */
  private namespacesDeleted?: Promise<Set<string>>;

  private constructor(
    readonly kc: KubeConfig,
    readonly target: TargetInfo,
    readonly kubeconfigPath: string,
    journalFile: string | undefined,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.apps = kc.makeApiClient(AppsV1Api);
    this.cleanup = new CleanupRegistry(kubeconfigPath, journalFile);
  }

  static async connect(opts: ConnectOptions): Promise<Cluster> {
    const kc = loadKubeConfig(opts.kubeconfigPath);
    const target = await checkApiServer(kc, opts.timeouts?.apiServer);
    const runId = opts.runId ?? `${process.pid}-${Date.now()}`;
    const journal = opts.journalDir ? join(opts.journalDir, `${runId}.journal.json`) : undefined;
    const cluster = new Cluster(kc, target, opts.kubeconfigPath, journal);
    if (opts.timeouts) cluster.timeouts = opts.timeouts;
    return cluster;
  }

  async read<T extends Obj = Obj>(ref: ObjectKey): Promise<T> {
    return (await this.objects.read({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    })) as T;
  }

  async tryRead<T extends Obj = Obj>(ref: ObjectKey): Promise<T | undefined> {
    try {
      return await this.read<T>(ref);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async list<T extends Obj = Obj>(apiVersion: string, kind: string, namespace?: string, labelSelector?: string): Promise<T[]> {
    const res = await this.objects.list<T>(apiVersion, kind, namespace, undefined, undefined, undefined, undefined, labelSelector);
    return res.items;
  }

  /**
   * Server-side apply of manifest objects. An object that did not exist is registered for deletion; one
   * that existed is registered to be put back as it was.
   */
  async apply(objects: ManifestObject[]): Promise<{ created: ObjectKey[]; updated: ObjectKey[] }> {
    const created: ObjectKey[] = [];
    const updated: ObjectKey[] = [];
    await this.waitTerminatingNamespaces(objects);
    for (const obj of objects) {
      const key = keyOf(obj);
      const before = await this.tryRead(key);
      if (!before) {
        this.cleanup.add({ type: 'delete', ref: key });
        this.created.add(keyString(key));
        created.push(key);
      } else if (!this.created.has(keyString(key))) {
        this.cleanup.add({ type: 'restore', ref: key, patch: restorePatchFor(before, stripServerFields(obj)) });
        updated.push(key);
      }
      try {
        await this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
      } catch (err) {
        throw new Error(`apply ${key.kind}/${key.name}: ${describeApiError(err)}`, { cause: err });
      }
      if (obj.kind === 'CustomResourceDefinition') await this.waitCrdEstablished(obj.metadata.name, this.timeouts.crdEstablished);
    }
    return { created, updated };
  }

  /** JSON merge patch of any kind; the previous values of the patched fields are registered for restore. */
  async mergePatch(ref: ObjectRef, patch: Record<string, unknown>): Promise<Obj> {
    const before = await this.read(ref);
    if (!this.created.has(keyString(ref))) {
      this.cleanup.add({ type: 'restore', ref: keyOf(ref), patch: restorePatchFor(before, patch) });
    }
    return this.patchRaw(ref, patch, PatchStrategy.MergePatch);
  }

  async patchRaw(ref: ObjectKey, patch: unknown, strategy: PatchStrategy = PatchStrategy.MergePatch): Promise<Obj> {
    // an RFC 6902 patch is an array: client-node's object API sends an object with kind and metadata, so it goes as is
    if (Array.isArray(patch)) return this.sendPatch(ref, patch, PatchStrategy.JsonPatch);
    const own = ((patch as { metadata?: Record<string, unknown> }).metadata ?? {}) as Record<string, unknown>;
    // the patch's own metadata (labels, annotations) must not replace the name and namespace that address the object
    const body = {
      ...(patch as object),
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { ...own, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    };
    try {
      return (await this.objects.patch(body as Obj, undefined, undefined, FIELD_MANAGER, undefined, strategy)) as Obj;
    } catch (err) {
      throw new Error(`patch ${ref.kind}/${ref.name}: ${describeApiError(err)}`, { cause: err });
    }
  }

  /** The API resource (plural, scope) serving a kind, from discovery; undefined when the server does not serve it. */
  async resourceOf(apiVersion: string, kind: string): Promise<{ name: string; namespaced: boolean } | undefined> {
    const api = this.objects as unknown as {
      resource(apiVersion: string, kind: string): Promise<{ name: string; namespaced: boolean } | undefined>;
    };
    return api.resource(apiVersion, kind);
  }

  /** The namespace objects without one go to: the kubeconfig context's, else `default` (as client-node and kubectl do). */
  defaultNamespace(): string {
    const ctx = this.kc.getContextObject(this.kc.getCurrentContext());
    return ctx?.namespace || 'default';
  }

  /** PATCH with a body client-node's object API cannot send (a JSON patch array), over the kubeconfig's TLS and auth. */
  private async sendPatch(ref: ObjectKey, body: unknown, contentType: string): Promise<Obj> {
    const res = await this.resourceOf(ref.apiVersion, ref.kind);
    if (!res) throw new Error(`patch ${ref.kind}/${ref.name}: the server does not serve ${ref.apiVersion} ${ref.kind}`);
    const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const path = `${base}${res.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? this.defaultNamespace())}` : ''}/${res.name}/${encodeURIComponent(ref.name)}?fieldManager=${FIELD_MANAGER}`;
    const server = new URL(this.kc.getCurrentCluster()!.server);
    const opts: RequestOptions = {
      method: 'PATCH',
      hostname: server.hostname.replace(/^\[|\]$/g, ''),
      port: server.port || 443,
      path: `${server.pathname.replace(/\/$/, '')}${path}`,
      headers: { 'content-type': contentType, accept: 'application/json' },
    };
    await this.kc.applyToHTTPSOptions(opts);
    const text = JSON.stringify(body);
    const { status, data } = await new Promise<{ status: number; data: string }>((ok, fail) => {
      const req = httpsRequest(opts, (r) => {
        let buf = '';
        r.setEncoding('utf8');
        r.on('data', (c: string) => (buf += c));
        r.on('end', () => ok({ status: r.statusCode ?? 0, data: buf }));
        r.on('error', fail);
      });
      req.on('error', (err) => fail(new Error(`patch ${ref.kind}/${ref.name}: ${err.message}`, { cause: err })));
      req.end(text);
    });
    if (status >= 300) {
      const cause = new ApiStatusError(status, data);
      throw new Error(`patch ${ref.kind}/${ref.name}: ${describeApiError(cause)}`, { cause });
    }
    return JSON.parse(data) as Obj;
  }

  /** `kubectl rollout restart`: a new pod-template annotation makes the Deployment roll its pods. */
  async rolloutRestart(namespace: string, deployment: string): Promise<void> {
    const ref = { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, namespace };
    await this.patchRaw(ref, {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } },
    });
  }

  async deletePod(namespace: string, name: string, gracePeriodSeconds?: number): Promise<void> {
    await this.core.deleteNamespacedPod({ name, namespace, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) });
  }

  async listPods(namespace: string, labelSelector?: string, fieldSelector?: string): Promise<V1Pod[]> {
    const res = await this.core.listNamespacedPod({
      namespace,
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    });
    return res.items;
  }

  async waitCrdEstablished(name: string, timeoutMs: number): Promise<void> {
    await waitFor({
      name: `CRD ${name} Established`,
      timeoutMs,
      timeoutName: 'crdEstablished',
      probe: async () => {
        const crd = await this.tryRead<Obj>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name });
        const conds = (crd?.status as { conditions?: { type: string; status: string }[] })?.conditions ?? [];
        const ok = conds.some((c) => c.type === 'Established' && c.status === 'True');
        return { done: ok, state: crd ? `conditions ${conds.map((c) => `${c.type}=${c.status}`).join(',') || 'none'}` : 'absent' };
      },
    });
  }

  /**
   * Undo everything this run changed, last first, and wait until what it deleted is gone. With
   * `deferNamespaces` it does not wait for deleted namespaces and what was inside them (splitDeletionWaits):
   * they are in `deferredDeletions` for a later waitGone. Safe to call more than once.
   */
  async teardown(timeoutMs = this.timeouts.cleanup, opts: { deferNamespaces?: boolean } = {}): Promise<CleanupOutcome[]> {
    const deleted: ObjectKey[] = [];
    const folded = await (this.namespacesDeleted ??= this.deleteNamespacesFirst());
    const outcomes = await this.cleanup.run((action) => {
      const ns = foldedInto(action, folded);
      if (ns !== undefined) return Promise.resolve(`with Namespace/${ns}`);
      if (action.type === 'delete' && isNamespace(action.ref) && folded.has(action.ref.name)) {
        deleted.push(action.ref);
        return Promise.resolve(`deleted Namespace/${action.ref.name} (first, with everything in it)`);
      }
      return this.undo(action, deleted);
    });
    // deferred: the deleted namespaces (and, covered by their wait, what was deleted inside them)
    const { waitNow, deferred } = splitDeletionWaits(deleted, opts.deferNamespaces ?? false);
    this.deferredDeletions = deferred;
    const left = await this.waitGone(waitNow, timeoutMs, 'cleanup').then(
      () => [],
      () => this.stillPresent(waitNow),
    );
    return markNotGone(outcomes, left, `after ${formatTimeout(timeoutMs)} (timeout cleanup)`);
  }

  /** Which of these objects are still there, and how they look (Terminating, finalizers); unreadable ones count as there. */
  async stillPresent(keys: readonly ObjectKey[]): Promise<StillPresent[]> {
    const out: StillPresent[] = [];
    for (const key of keys) {
      try {
        const obj = await this.tryRead(key);
        if (obj) out.push({ key, state: presentState(obj as Parameters<typeof presentState>[0]) });
      } catch (err) {
        out.push({ key, state: `unreadable: ${describeApiError(err)}` });
      }
    }
    return out;
  }

  /**
   * Deletes the namespaces the run created before undoing anything else, as `kubectl delete namespace` would: the
   * namespace controller then deletes what is in them, and the cleanup skips those objects one by one (26
   * API calls for a suite's deploy, each with its watchers' work, was most of a verdict's cleanup). Returns the
   * namespaces deleted (or already gone); one that cannot be deleted is left to the ordinary undo, which
   * deletes its contents one by one and reports the failure.
   */
  private async deleteNamespacesFirst(): Promise<Set<string>> {
    const done = new Set<string>();
    for (const name of namespacesToDelete(this.cleanup.pending)) {
      try {
        await this.objects.delete(
          spec({ apiVersion: 'v1', kind: 'Namespace', name }),
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
        );
        done.add(name);
      } catch (err) {
        if (isNotFound(err)) done.add(name);
      }
    }
    return done;
  }

  /**
   * A namespace the objects go into (or that they declare) which is still Terminating, e.g. deleted by the
   * previous run a moment ago, refuses new objects (403 "is being terminated"): wait until it is gone, within
   * the `objectGone` timeout, so that the apply creates it afresh.
   */
  private async waitTerminatingNamespaces(objects: ManifestObject[]): Promise<void> {
    const names = new Set<string>();
    for (const o of objects) {
      if (o.kind === 'Namespace' && o.apiVersion === 'v1') names.add(o.metadata.name);
      else if (o.metadata.namespace) names.add(o.metadata.namespace);
    }
    const terminating: ObjectKey[] = [];
    for (const name of names) {
      const key: ObjectKey = { apiVersion: 'v1', kind: 'Namespace', name };
      const ns = await this.tryRead(key);
      if ((ns?.metadata as { deletionTimestamp?: string } | undefined)?.deletionTimestamp) terminating.push(key);
    }
    await this.waitGone(terminating, this.timeouts.objectGone, 'objectGone');
  }

  private async undo(action: CleanupAction, deleted: ObjectKey[]): Promise<string> {
    switch (action.type) {
      case 'delete':
        try {
          await this.objects.delete(spec(action.ref), undefined, undefined, undefined, undefined, 'Background');
          deleted.push(action.ref);
          return `deleted ${describeAction(action).slice(7)}`;
        } catch (err) {
          if (isNotFound(err)) return `already gone: ${describeAction(action).slice(7)}`;
          throw new Error(`${describeAction(action)}: ${describeApiError(err)}`, { cause: err });
        }
      case 'restore':
        try {
          await this.patchRaw(action.ref, action.patch, PatchStrategy.MergePatch);
          return describeAction(action);
        } catch (err) {
          // decided by the HTTP status (client-node's ApiException code, kept as the cause), never by message text
          if (isNotFound(err)) return `nothing to restore: ${describeAction(action).slice(8)}`;
          throw err;
        }
      case 'recreate': {
        const existing = await this.tryRead(action.object);
        if (existing && !(existing.metadata as { deletionTimestamp?: string })?.deletionTimestamp) {
          return `already present: ${describeAction(action).slice(10)}`;
        }
        if (existing) await this.waitGone([action.object], this.timeouts.objectGone, 'objectGone');
        await this.objects.create(stripServerFields(action.object) as Obj);
        return describeAction(action);
      }
    }
  }

  async waitGone(keys: ObjectKey[], timeoutMs: number, timeoutName?: string): Promise<void> {
    if (keys.length === 0) return;
    await waitFor({
      name: `deletion of ${keys.length} object(s)`,
      timeoutMs,
      ...(timeoutName ? { timeoutName } : {}),
      probe: async () => {
        const left: string[] = [];
        for (const k of keys) if (await this.tryRead(k)) left.push(`${k.kind}/${k.name}`);
        return { done: left.length === 0, state: left.length ? `still present: ${left.slice(0, 5).join(', ')}` : 'all gone' };
      },
    });
  }
}

function spec(k: ObjectKey): KubernetesObject {
  return { apiVersion: k.apiVersion, kind: k.kind, metadata: { name: k.name, ...(k.namespace ? { namespace: k.namespace } : {}) } };
}

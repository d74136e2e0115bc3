/**
 * The SchedulerInstall operator: an ordinary Kubernetes client (@kubernetes/client-node) that renders
 * each SchedulerInstall into the EPP ConfigMap / Deployment / Service, the Gateway(Class) and the
 * HTTPRoute, sets hand-edited owned objects back, and reports Ready in the SchedulerInstall status.
 *
 * Level-triggered: any watch event (SchedulerInstalls, or objects labelled managed-by
 * llm-sched-operator) schedules one pass over all SchedulerInstalls; a periodic resync covers missed
 * events. A failed pass (API unavailable) is retried with capped exponential backoff.
 */
import {
  ApiException,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubernetesObject,
} from '#client-node';
import { loadKeepAliveKubeConfig } from '../../common/kube-client.ts';
import { backoffMs, containsDesired, nextStatus, type Outcome, type SchedulerInstallStatus } from './drift.ts';
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  OWNER_LABEL,
  EPP_POD_SELECTOR,
  RenderError,
  SI_API_VERSION,
  SI_KIND,
  renderEppBridge,
  renderSchedulerInstall,
  type EppPodAddress,
  type RenderedObject,
  type SchedulerInstall,
} from './render.ts';

export interface OperatorOptions {
  kubeconfigPath: string;
  /** Full pass at least this often, events or not (default 30 s). */
  resyncMs?: number;
  /** One line per notable action; default: silent. */
  log?: (line: string) => void;
}

export interface OperatorHandle {
  stop(): Promise<void>;
}

const FIELD_MANAGER = 'llm-sched-operator';
const DEBOUNCE_MS = 50;
const STOP_WAIT_MS = 3_000;
const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

/** Paths watched for changes; owned objects are filtered by the managed-by label. */
const WATCHES: Array<{ path: string; labelSelector?: string }> = [
  { path: '/apis/sim.llm-d.io/v1alpha1/schedulerinstalls' },
  { path: '/api/v1/configmaps', labelSelector: MANAGED_SELECTOR },
  { path: '/api/v1/services', labelSelector: MANAGED_SELECTOR },
  // the EPP pods' addresses go into the pool-namespace EPP Service's Endpoints (renderEppBridge)
  { path: '/api/v1/pods', labelSelector: EPP_POD_SELECTOR },
  { path: '/apis/apps/v1/deployments', labelSelector: MANAGED_SELECTOR },
  { path: '/apis/gateway.networking.k8s.io/v1/gateways', labelSelector: MANAGED_SELECTOR },
  { path: '/apis/gateway.networking.k8s.io/v1/httproutes', labelSelector: MANAGED_SELECTOR },
  { path: '/apis/gateway.networking.k8s.io/v1/gatewayclasses', labelSelector: MANAGED_SELECTOR },
];

type Si = SchedulerInstall & KubernetesObject & { status?: Partial<SchedulerInstallStatus>; metadata: { deletionTimestamp?: unknown } };

function codeOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const c = (err as { statusCode?: unknown; code?: unknown } | null)?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

/** 4xx answers other than conflicts and throttling: retrying right away will not help. */
function isPermanent(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && code >= 400 && code < 500 && code !== 404 && code !== 409 && code !== 429;
}

function messageOf(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: unknown } | string | undefined;
    const msg = typeof body === 'object' && body && typeof body.message === 'string' ? body.message : String(body ?? '');
    return `HTTP ${err.code}: ${msg}`.trim();
  }
  return err instanceof Error ? err.message : String(err);
}

/** What every reconcile step needs: the API clients, the log, whether the operator is stopping. */
interface OperatorClient {
  objects: KubernetesObjectApi;
  custom: CustomObjectsApi;
  log: (line: string) => void;
  isStopped(): boolean;
}

/** Create when missing, merge-patch when a field the operator owns differs, else leave alone. */
async function applyObject(c: OperatorClient, desired: RenderedObject): Promise<'created' | 'updated' | 'unchanged'> {
  const spec = desired as unknown as KubernetesObject;
  let actual: KubernetesObject;
  try {
    actual = await c.objects.read(spec as KubernetesObject & { metadata: { name: string } });
  } catch (err) {
    if (codeOf(err) !== 404) throw err;
    await c.objects.create(spec, undefined, undefined, FIELD_MANAGER);
    return 'created';
  }
  if (containsDesired(desired, actual)) return 'unchanged';
  await c.objects.patch(spec, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch);
  return 'updated';
}

type PodWithStatus = KubernetesObject & {
  status?: { podIP?: string; conditions?: { type?: string; status?: string }[] };
  metadata: { deletionTimestamp?: unknown };
};

function eppPodAddress(p: PodWithStatus): EppPodAddress {
  return {
    ip: p.status!.podIP!,
    pod: p.metadata!.name!,
    ready: !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'),
  };
}

async function eppPods(c: OperatorClient, namespace: string): Promise<EppPodAddress[]> {
  const list = await c.objects.list<PodWithStatus>('v1', 'Pod', namespace, undefined, undefined, undefined, undefined, EPP_POD_SELECTOR);
  return list.items.filter((p) => p.status?.podIP && p.metadata?.name).map(eppPodAddress);
}

/**
 * The fast path for EPP pod events: only the pool-namespace Endpoints, one merge patch from the pod watch's
 * own events (no list per event; a full pass renders and reads every object and can trail a rollout, while
 * the gateway finds no EPP).
 */
class EppBridgeSync {
  /** SchedulerInstalls of the last pass: an EPP pod event updates their bridge Endpoints at once. */
  knownSis: Si[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** EPP pods by namespace */
  private readonly cache = new Map<string, Map<string, EppPodAddress>>();
  private queued = false;

  constructor(private readonly c: OperatorClient) {}

  notePod(phase: string, pod: KubernetesObject): void {
    const p = pod as PodWithStatus;
    const ns = p.metadata?.namespace ?? 'default';
    const name = p.metadata?.name;
    if (!name) return;
    const byName = this.cache.get(ns) ?? new Map<string, EppPodAddress>();
    this.cache.set(ns, byName);
    if (phase === 'DELETED' || !p.status?.podIP) byName.delete(name);
    else byName.set(name, eppPodAddress(p));
  }

  sync(): void {
    // events that arrive while a sync waits to start are covered by it (the cache is read when it runs)
    if (this.queued) return;
    this.queued = true;
    this.chain = this.chain.then(async () => {
      this.queued = false;
      for (const si of this.knownSis) {
        if (this.c.isStopped()) return;
        try {
          await this.syncOne(si);
        } catch (err) {
          this.c.log(`schedulerinstall ${si.metadata.namespace}/${si.metadata.name}: EPP endpoints not synced: ${messageOf(err)}`);
        }
      }
    });
  }

  private async syncOne(si: Si): Promise<void> {
    const pods = [...(this.cache.get(si.metadata.namespace)?.values() ?? [])];
    for (const o of renderEppBridge(si, pods)) {
      if (o.kind !== 'Endpoints') continue;
      await this.c.objects
        .patch(o as unknown as KubernetesObject, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch)
        .catch(async (err: unknown) => {
          if (codeOf(err) === 404) await applyObject(this.c, o);
          else throw err;
        });
    }
  }
}

async function writeStatus(c: OperatorClient, si: Si, outcome: Outcome): Promise<void> {
  const status = nextStatus(si.status, si.metadata.generation, outcome, new Date());
  if (!status) return;
  await c.custom.patchNamespacedCustomObjectStatus(
    {
      group: 'sim.llm-d.io',
      version: 'v1alpha1',
      namespace: si.metadata.namespace,
      plural: 'schedulerinstalls',
      name: si.metadata.name,
      body: { status },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

/** Applies `list` in order; a permanent failure goes into the status and ends the pass for this SchedulerInstall. */
async function applyAll(c: OperatorClient, si: Si, list: RenderedObject[]): Promise<boolean> {
  const id = `${si.metadata.namespace}/${si.metadata.name}`;
  for (const obj of list) {
    if (c.isStopped()) return false;
    try {
      const result = await applyObject(c, obj);
      if (result !== 'unchanged') c.log(`schedulerinstall ${id}: ${result} ${obj.kind}/${obj.metadata.name}`);
    } catch (err) {
      if (!isPermanent(err)) throw err;
      const message = `${obj.kind}/${obj.metadata.name}: ${messageOf(err)}`;
      c.log(`schedulerinstall ${id}: apply failed: ${message}`);
      await writeStatus(c, si, { ok: false, reason: 'ApplyFailed', message });
      return false;
    }
  }
  return true;
}

async function reconcileOne(c: OperatorClient, si: Si): Promise<void> {
  let rendered: RenderedObject[];
  try {
    rendered = renderSchedulerInstall(si);
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    c.log(`schedulerinstall ${si.metadata.namespace}/${si.metadata.name}: invalid spec: ${err.message}`);
    await writeStatus(c, si, { ok: false, reason: 'InvalidSpec', message: err.message });
    return;
  }
  if (!(await applyAll(c, si, rendered))) return;
  // the pool-namespace EPP Service and Endpoints after the rest, so the ConfigMap a profile patch changes goes first
  const bridge = renderEppBridge(si, await eppPods(c, si.metadata.namespace));
  if (!(await applyAll(c, si, bridge))) return;
  rendered.push(...bridge);
  await writeStatus(c, si, { ok: true, objects: rendered.length });
}

/** GatewayClasses are cluster-scoped and cannot be garbage-collected through an ownerReference. */
async function pruneGatewayClasses(c: OperatorClient, sis: Si[]): Promise<void> {
  let classes;
  try {
    classes = await c.objects.list(
      'gateway.networking.k8s.io/v1',
      'GatewayClass',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      MANAGED_SELECTOR,
    );
  } catch (err) {
    if (codeOf(err) === 404) return;
    throw err;
  }
  const wanted = new Set<string>();
  for (const si of sis) {
    try {
      for (const o of renderSchedulerInstall(si)) if (o.kind === 'GatewayClass') wanted.add(o.metadata.name);
    } catch {
      // an invalid SchedulerInstall keeps whatever it had
      wanted.add('*');
    }
  }
  if (wanted.has('*')) return;
  for (const gc of classes.items) {
    const name = gc.metadata?.name;
    if (!name || wanted.has(name) || !gc.metadata?.labels?.[OWNER_LABEL]) continue;
    c.log(`deleting GatewayClass/${name}: its SchedulerInstall is gone`);
    await c.objects.delete({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name } });
  }
}

async function reconcileAll(c: OperatorClient, bridges: EppBridgeSync): Promise<void> {
  let list;
  try {
    list = await c.objects.list<Si>(SI_API_VERSION, SI_KIND);
  } catch (err) {
    // The CRD is not installed (yet): nothing to do until it is.
    if (codeOf(err) === 404) return;
    throw err;
  }
  const sis = list.items.filter((si) => !si.metadata.deletionTimestamp);
  bridges.knownSis = sis;
  let firstError: unknown;
  for (const si of sis) {
    if (c.isStopped()) return;
    try {
      await reconcileOne(c, si);
    } catch (err) {
      firstError ??= err;
    }
  }
  await pruneGatewayClasses(c, sis);
  if (firstError !== undefined) throw firstError;
}

export async function startSchedulerInstallOperator(opts: OperatorOptions): Promise<OperatorHandle> {
  const kc = loadKeepAliveKubeConfig(opts.kubeconfigPath);
  const log = opts.log ?? (() => undefined);
  const resyncMs = opts.resyncMs ?? 30_000;

  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> | undefined;
  let again = false;
  let failures = 0;
  const client: OperatorClient = {
    objects: KubernetesObjectApi.makeApiClient(kc),
    custom: kc.makeApiClient(CustomObjectsApi),
    log,
    isStopped: () => stopped,
  };
  const bridges = new EppBridgeSync(client);

  function schedule(delayMs: number): void {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      runPass();
    }, delayMs);
  }

  function requestReconcile(): void {
    if (current) again = true;
    else schedule(DEBOUNCE_MS);
  }

  function runPass(): void {
    if (stopped) return;
    current = reconcileAll(client, bridges)
      .then(
        () => {
          failures = 0;
        },
        (err: unknown) => {
          failures++;
          const delay = backoffMs(failures);
          log(`reconcile failed (attempt ${failures}, retry in ${delay} ms): ${messageOf(err)}`);
          schedule(delay);
        },
      )
      .finally(() => {
        current = undefined;
        if (again) {
          again = false;
          schedule(DEBOUNCE_MS);
        }
      });
  }

  const watch = new Watch(kc);
  const aborts = new Set<AbortController>();
  function startWatch(w: (typeof WATCHES)[number], attempt: number): void {
    if (stopped) return;
    let sawEvent = false;
    let controller: AbortController | undefined;
    let ended = false;
    const retry = (err: unknown) => {
      if (controller) aborts.delete(controller);
      if (stopped || ended) return;
      ended = true;
      const next = sawEvent || !err ? 0 : attempt + 1;
      if (err) log(`watch ${w.path} ended: ${messageOf(err)}`);
      // The server may have restarted or missed events: look again, then watch again.
      requestReconcile();
      setTimeout(() => startWatch(w, next), err ? backoffMs(next) : DEBOUNCE_MS).unref();
    };
    watch
      .watch(
        w.path,
        w.labelSelector ? { labelSelector: w.labelSelector } : {},
        (phase, obj) => {
          sawEvent = true;
          if (phase === 'BOOKMARK') return;
          // EPP pod events only move the bridge Endpoints: a full pass per pod event would delay the
          // ConfigMap render a suite's profile patch is waiting for
          if (w.labelSelector === EPP_POD_SELECTOR) {
            bridges.notePod(phase, obj as KubernetesObject);
            bridges.sync();
          } else requestReconcile();
        },
        retry,
      )
      .then((ac) => {
        if (stopped) ac.abort();
        else if (!ac.signal.aborted) {
          controller = ac;
          aborts.add(ac);
        }
      })
      // Thrown before the request is sent (e.g. a kubeconfig the client refuses): same retry path.
      .catch(retry);
  }
  for (const w of WATCHES) startWatch(w, 0);

  const resync = setInterval(requestReconcile, resyncMs);
  resync.unref();
  runPass();

  return {
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(resync);
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const ac of aborts) ac.abort();
      aborts.clear();
      if (current) {
        let t: NodeJS.Timeout | undefined;
        await Promise.race([current, new Promise((r) => (t = setTimeout(r, STOP_WAIT_MS)))]);
        clearTimeout(t);
      }
    },
  };
}

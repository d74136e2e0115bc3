import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type Informer,
  type KubernetesObject,
  type ObjectCache,
  type V1Pod,
  type V1Service,
} from '#client-node';
import { loadKeepAliveKubeConfig } from '../../common/kube-client.ts';
import { holdPodPrograms } from '../runtime/images.ts';
import { podsDir } from '../runtime/mounts.ts';
import { DEFAULT_LOG_ROTATION, type LogRotation } from '../runtime/cri-log.ts';
import { HostsFileKeeper } from './dns.ts';
import { startExecServer, type ExecServer } from './exec.ts';
import { EventRecorder } from './events.ts';
import { PodWorker } from './pod-worker.ts';
import { IpAllocator, chooseNode, defaultNodes, type TwinNode } from './scheduler.ts';
import { lockIpPrefixOption } from '../runtime/ip-prefix.ts';

export interface KubeletOptions {
  kubeconfigPath: string;
  stateDir: string;
  /**
   * Pod addresses are `<ipPrefix>.x.y`; default `127.0`; `random` picks a free one. The kubelet holds the prefix
   * while it runs (twin/runtime/ip-prefix.ts): a second twin on the same prefix is refused.
   */
  ipPrefix?: string;
  /** Nodes this kubelet serves; default the seed's worker-a / worker-b. */
  nodes?: TwinNode[];
  /** Upper bound for each pod's graceful stop when the kubelet itself stops. Default 5 s. */
  shutdownGraceMs?: number;
  /** containerLogMaxSize / containerLogMaxFiles (twin/runtime/cri-log.ts). Default 10 MiB and 5, the kubelet's. */
  containerLogRotation?: LogRotation;
}

export interface KubeletHandle {
  /** The prefix of the pod addresses (the one picked, for `random`). */
  ipPrefix: string;
  /** The hosts file pods resolve Service names from. */
  hostsFile: string;
  nodes: TwinNode[];
  /** Running container pids by pod (`namespace/name`) and container name. */
  pids(): Record<string, Record<string, number>>;
  /** Stops every container and waits for them; leaves the API untouched. Idempotent. */
  stop(): Promise<void>;
}

type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

const RESCHEDULE_MS = 1000;

/**
 * The twin's kubelet and scheduler in one: binds unscheduled pods to a node and a loopback IP,
 * runs bound pods as processes, reports their status, deletes gracefully, keeps the DNS hosts file.
 * It talks to the API server only through @kubernetes/client-node.
 */
export async function startKubelet(opts: KubeletOptions): Promise<KubeletHandle> {
  const lock = await lockIpPrefixOption(opts.ipPrefix);
  try {
    const kubelet = await startLocked(opts, lock.prefix);
    return {
      ...kubelet,
      stop: async () => {
        await kubelet.stop();
        await lock.release();
      },
    };
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startLocked(opts: KubeletOptions, ipPrefix: string): Promise<KubeletHandle> {
  holdPodPrograms();
  const kc = loadKeepAliveKubeConfig(opts.kubeconfigPath);
  const core = kc.makeApiClient(CoreV1Api);
  const stateDir = path.resolve(opts.stateDir);
  const nodes = opts.nodes ?? defaultNodes(ipPrefix);
  const ips = new IpAllocator(ipPrefix, new Set(nodes.map((n) => n.hostIP)));
  const hostsFile = path.join(stateDir, 'hosts.json');
  const events = new EventRecorder(core, 'kubelet');
  const schedulerEvents = new EventRecorder(core, 'default-scheduler');
  const workers = new Map<string, PodWorker>(); // by uid
  let stopped = false;

  await registerNodes(core, nodes);

  const execServers = await startNodeExecServers(core, nodes, workers);

  const pods: Cached<V1Pod> = makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
  const services: Cached<V1Service> = makeInformer(kc, '/api/v1/services', () => core.listServiceForAllNamespaces());
  const hosts = new HostsFileKeeper(hostsFile, () => ({ services: services.list(), pods: pods.list() }));
  const ctx = {
    core,
    events,
    stateDir,
    hostsFile,
    kubeconfigPath: path.resolve(opts.kubeconfigPath),
    logRotation: opts.containerLogRotation ?? DEFAULT_LOG_ROTATION,
  };

  const scheduler = new PodScheduler(core, nodes, schedulerEvents, () => pods.list());
  const schedule = (pod: V1Pod) => scheduler.schedule(pod);

  function sync(pod: V1Pod): void {
    if (stopped) return;
    const uid = uidOf(pod);
    const worker = workers.get(uid);
    if (worker) {
      worker.update(pod);
      if (pod.metadata?.deletionTimestamp) void terminate(uid, worker, { deleteObject: true });
      return;
    }
    if (!pod.spec?.nodeName) {
      if (!pod.metadata?.deletionTimestamp) void schedule(pod);
      else
        void core
          .deleteNamespacedPod({ name: pod.metadata.name!, namespace: pod.metadata.namespace!, gracePeriodSeconds: 0 })
          .catch(() => undefined);
      return;
    }
    scheduler.bound(uid);
    const node = nodes.find((n) => n.name === pod.spec?.nodeName);
    if (!node) return; // bound to a node this kubelet does not serve
    if (pod.metadata?.deletionTimestamp) {
      // Nothing of ours runs for it (e.g. left from an earlier twin): finish the deletion.
      void core
        .deleteNamespacedPod({ name: pod.metadata.name!, namespace: pod.metadata.namespace!, gracePeriodSeconds: 0 })
        .catch(() => undefined);
      return;
    }
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return; // finished before we started
    const previousIP = pod.status?.podIP;
    if (previousIP && previousIP.startsWith(`${ipPrefix}.`) && !nodes.some((n) => n.hostIP === previousIP)) ips.claim(previousIP, uid);
    const podIP = ips.allocate(uid);
    const w = new PodWorker(pod, node, podIP, ctx);
    workers.set(uid, w);
    w.start();
  }

  async function terminate(uid: string, worker: PodWorker, options: { deleteObject: boolean; graceMs?: number }): Promise<void> {
    await worker.terminate(options);
    if (workers.get(uid) === worker) workers.delete(uid);
    ips.release(uid);
  }

  pods.on('add', sync);
  pods.on('update', sync);
  pods.on('delete', (pod) => {
    const uid = uidOf(pod);
    scheduler.forget(uid);
    const worker = workers.get(uid);
    if (worker) void terminate(uid, worker, { deleteObject: false, graceMs: 2000 });
    else ips.release(uid);
  });
  for (const verb of ['add', 'update', 'delete'] as const) {
    pods.on(verb, () => hosts.changed());
    services.on(verb, () => hosts.changed());
  }
  // Informers stop on a watch error: start them again after a pause, while the kubelet runs.
  for (const informer of [pods, services] as Cached<KubernetesObject>[]) {
    informer.on('error', () => {
      if (!stopped) setTimeout(() => !stopped && void informer.start().catch(() => undefined), 500).unref();
    });
  }
  await Promise.all([pods.start(), services.start()]);

  // Pods that could not be placed get another try as the cluster changes.
  const retry = setInterval(() => {
    for (const p of pods.list()) if (!p.spec?.nodeName && !p.metadata?.deletionTimestamp) void schedule(p);
  }, RESCHEDULE_MS);
  retry.unref();

  let stopping: Promise<void> | undefined;
  return {
    ipPrefix,
    hostsFile,
    nodes,
    pids() {
      const out: Record<string, Record<string, number>> = {};
      for (const w of workers.values()) out[`${w.key.namespace}/${w.key.name}`] = w.pids();
      return out;
    },
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(retry);
        hosts.stop();
        events.close();
        schedulerEvents.close();
        await Promise.all([pods.stop(), services.stop()].map((p) => p.catch(() => undefined)));
        await Promise.all([...workers.values()].map((w) => w.shutdown(opts.shutdownGraceMs ?? 5000)));
        workers.clear();
        // the twin's API objects end with it, so do its pods' directories (PVCs and hostPaths stay, as on a node)
        await fs.promises.rm(podsDir(stateDir), { recursive: true, force: true }).catch(() => undefined);
        await Promise.all(execServers.map((x) => x.close()));
      })();
      return stopping;
    },
  };
}

const uidOf = (p: V1Pod) => p.metadata?.uid ?? `${p.metadata?.namespace}/${p.metadata?.name}`;

/**
 * Each node's streaming server (exec), published as the Node's daemonEndpoints.kubeletEndpoint.Port,
 * where the API server sends `pods/exec` (as the real apiserver reaches the kubelet on :10250).
 */
async function startNodeExecServers(core: CoreV1Api, nodes: readonly TwinNode[], workers: Map<string, PodWorker>): Promise<ExecServer[]> {
  const execServers: ExecServer[] = [];
  for (const n of nodes) {
    const srv = await startExecServer(n.hostIP, (ns, name, container) => {
      const w = [...workers.values()].find((x) => x.key.namespace === ns && x.key.name === name && x.node.name === n.name);
      return w ? w.execTarget(container === '-' ? undefined : container) : `pod ${name} is not running on node ${n.name}`;
    });
    execServers.push(srv);
    await core
      .patchNodeStatus(
        { name: n.name, body: { status: { daemonEndpoints: { kubeletEndpoint: { Port: srv.port } } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch(() => undefined);
  }
  return execServers;
}

/** The default-scheduler stand-in: places a pod on a node (scheduler.ts) and binds it, or marks it Unschedulable. */
class PodScheduler {
  /** uid -> node name, until the informer shows the binding */
  private readonly boundHere = new Map<string, string>();
  /** uid -> last FailedScheduling message */
  private readonly failedScheduling = new Map<string, string>();
  private readonly binding = new Set<string>();

  constructor(
    private readonly core: CoreV1Api,
    private readonly nodes: readonly TwinNode[],
    private readonly events: EventRecorder,
    private readonly pods: () => readonly V1Pod[],
  ) {}

  /** The informer shows the pod bound: no placement of ours to remember. */
  bound(uid: string): void {
    this.boundHere.delete(uid);
  }

  forget(uid: string): void {
    this.boundHere.delete(uid);
    this.failedScheduling.delete(uid);
  }

  private placedPods(): V1Pod[] {
    return this.pods().map((p) => {
      const node = this.boundHere.get(uidOf(p));
      return node && !p.spec?.nodeName ? { ...p, spec: { ...p.spec!, nodeName: node } } : p;
    });
  }

  async schedule(pod: V1Pod): Promise<void> {
    const uid = uidOf(pod);
    if (this.binding.has(uid) || this.boundHere.has(uid)) return;
    const placement = chooseNode(pod, this.nodes, this.placedPods());
    const { name = '', namespace = 'default' } = pod.metadata ?? {};
    const who = { name, namespace, uid };
    if (!placement.ok) {
      if (this.failedScheduling.get(uid) !== placement.message) {
        this.failedScheduling.set(uid, placement.message);
        this.events.record(who, 'Warning', 'FailedScheduling', placement.message);
        await markUnschedulable(this.core, name, namespace, placement.message);
      }
      return;
    }
    this.binding.add(uid);
    this.boundHere.set(uid, placement.node.name);
    try {
      await bindPod(this.core, pod, placement.node.name);
      this.failedScheduling.delete(uid);
      this.events.record(who, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${placement.node.name}`);
    } catch {
      this.boundHere.delete(uid);
    } finally {
      this.binding.delete(uid);
    }
  }
}

function markUnschedulable(core: CoreV1Api, name: string, namespace: string, message: string): Promise<unknown> {
  return core
    .patchNamespacedPodStatus(
      {
        name,
        namespace,
        body: {
          status: {
            phase: 'Pending',
            conditions: [
              {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message,
                lastProbeTime: null,
                lastTransitionTime: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    )
    .catch(() => undefined);
}

/** Binds through the pods/binding subresource, as kube-scheduler does; falls back to setting spec.nodeName. */
async function bindPod(core: CoreV1Api, pod: V1Pod, nodeName: string): Promise<void> {
  const name = pod.metadata!.name!;
  const namespace = pod.metadata!.namespace ?? 'default';
  try {
    await core.createNamespacedPodBinding({
      name,
      namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}) },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      },
    });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code !== 404 && code !== 405 && code !== 501) throw err;
    await core.patchNamespacedPod(
      { name, namespace, body: { spec: { nodeName } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
}

/** Creates (or refreshes) the Node objects, as a kubelet registers its node. Best effort. */
async function registerNodes(core: CoreV1Api, nodes: readonly TwinNode[]): Promise<void> {
  await Promise.all(
    nodes.map(async (n) => {
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const status = {
        addresses: [
          { type: 'InternalIP', address: n.hostIP },
          { type: 'Hostname', address: n.name },
        ],
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'kubelet is posting ready status',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        capacity: { cpu: '64', memory: '512Gi', pods: '250', 'nvidia.com/gpu': '8' },
        allocatable: { cpu: '64', memory: '512Gi', pods: '250', 'nvidia.com/gpu': '8' },
        nodeInfo: {
          kubeletVersion: 'v1.32.0-pd-harness-twin',
          containerRuntimeVersion: 'pd-harness-twin://1',
          operatingSystem: 'linux',
          architecture: 'amd64',
          osImage: 'pd-harness twin',
          kernelVersion: '',
          kubeProxyVersion: '',
          machineID: '',
          systemUUID: '',
          bootID: '',
        },
      };
      try {
        await core.createNode({ body: { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: n.labels }, status } as never });
        await core
          .patchNodeStatus({ name: n.name, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
          .catch(() => undefined);
      } catch {
        // Registered already (the API server may seed nodes): make labels and addresses ours.
        await core
          .patchNode({ name: n.name, body: { metadata: { labels: n.labels } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))
          .catch(() => undefined);
        await core
          .patchNodeStatus(
            { name: n.name, body: { status: { addresses: status.addresses } } },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          )
          .catch(() => undefined);
      }
    }),
  );
}

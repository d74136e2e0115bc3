import type { ExecTarget } from './exec.ts';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PatchStrategy, setHeaderOptions, type CoreV1Api, type V1Container, type V1Pod } from '#client-node';
import { containerMounts, podVolumesDir, prepareVolumes, type VolumeSource } from '../runtime/mounts.ts';
import { ContainerRunner, type PreparedContainer, type RestartPolicy } from './container-runner.ts';
import { containerEnv, referencedSources, type EnvSources } from './env.ts';
import type { EventRecorder } from './events.ts';
import type { LogRotation } from '../runtime/cri-log.ts';
import type { TwinNode } from './scheduler.ts';
import { NO_INIT, containerStatus, podConditions, podPhase, rfc3339, type Condition, type InitProgress } from './status.ts';

export interface PodWorkerContext {
  core: CoreV1Api;
  events: EventRecorder;
  stateDir: string;
  hostsFile: string;
  kubeconfigPath: string;
  logRotation: LogRotation;
}

/** Status writes of a pod are coalesced over this window. */
const STATUS_COALESCE_MS = 25;

function decode(data: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(data ?? {})) out[k] = Buffer.from(v, 'base64').toString('utf8');
  return out;
}

function isNotFound(err: unknown): boolean {
  return (err as { code?: number })?.code === 404;
}

/** Runs one bound pod on its node: containers, status, graceful deletion. */
export class PodWorker {
  private pod: V1Pod;
  private readonly runners: ContainerRunner[];
  private readonly initRunners: ContainerRunner[];
  private init: InitProgress = NO_INIT;
  private readonly conditionsSince = new Map<string, Condition>();
  private readonly startTime = new Date();
  private statusTimer: NodeJS.Timeout | undefined;
  private statusWrite: Promise<void> = Promise.resolve();
  private lastStatusJson = '';
  private terminating: Promise<void> | undefined;
  private closed = false;

  constructor(
    pod: V1Pod,
    readonly node: TwinNode,
    readonly podIP: string,
    private readonly ctx: PodWorkerContext,
  ) {
    this.pod = pod;
    const key = this.key;
    const restartPolicy = (pod.spec?.restartPolicy ?? 'Always') as RestartPolicy;
    const runner = (c: V1Container, policy: RestartPolicy, waitingReason?: string) =>
      new ContainerRunner(
        c,
        {
          podKey: key,
          podIP,
          hostIP: node.hostIP,
          stateDir: ctx.stateDir,
          hostsFile: ctx.hostsFile,
          logRotation: ctx.logRotation,
          restartPolicy: policy,
          terminationGraceMs: this.graceMs(),
          prepare: () => this.prepare(c.name),
          event: (type, reason, message) =>
            this.event(type, reason, message, `spec.${waitingReason === undefined ? 'initContainers' : 'containers'}{${c.name}}`),
          changed: () => this.scheduleStatus(),
        },
        waitingReason === undefined ? {} : { waitingReason },
      );
    const inits = pod.spec?.initContainers ?? [];
    // Init containers run one after another to completion; a failed one is retried unless restartPolicy is Never.
    this.initRunners = inits.map((c) => runner(c, restartPolicy === 'Never' ? 'Never' : 'OnFailure'));
    this.runners = (pod.spec?.containers ?? []).map((c) =>
      runner(c, restartPolicy, inits.length > 0 ? 'PodInitializing' : 'ContainerCreating'),
    );
    if (inits.length > 0) this.init = { done: false, failed: false, incomplete: inits.map((c) => c.name) };
  }

  get key(): { namespace: string; name: string; uid: string } {
    return { namespace: this.pod.metadata?.namespace ?? 'default', name: this.pod.metadata?.name ?? '', uid: this.pod.metadata?.uid ?? '' };
  }

  /** Pids of the running containers (for `twin status` and tests). */
  /** What `kubectl exec` into `container` runs with (exec.ts), or why it cannot, in the API server's words. */
  execTarget(container: string | undefined): ExecTarget | string {
    const name = container || this.runners[0]?.name;
    const runner = this.runners.find((r) => r.name === name);
    if (!runner) return `container ${name} is not valid for pod ${this.key.name}`;
    const ctx = runner.execContext();
    if (!ctx) return `unable to upgrade connection: container not found ("${name}")`;
    return { namespace: this.key.namespace, pod: this.key.name, podIP: this.podIP, hostsFile: this.ctx.hostsFile, ...ctx };
  }

  pids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.runners) if (r.pid !== undefined) out[r.name] = r.pid;
    return out;
  }

  start(): void {
    this.scheduleStatus();
    void this.runInitContainers().then((ok) => {
      if (ok && !this.closed && !this.terminating) for (const r of this.runners) r.start();
    });
  }

  private async runInitContainers(): Promise<boolean> {
    for (const [i, r] of this.initRunners.entries()) {
      const view = await r.finished();
      if (this.closed || this.terminating) return false;
      if (view.state.terminated?.exitCode !== 0) {
        this.init = { ...this.init, failed: true };
        this.scheduleStatus();
        return false;
      }
      this.init = { done: i === this.initRunners.length - 1, failed: false, incomplete: this.initRunners.slice(i + 1).map((x) => x.name) };
      this.scheduleStatus();
    }
    return true;
  }

  update(pod: V1Pod): void {
    this.pod = pod;
    for (const r of this.runners) {
      const image = pod.spec?.containers?.find((c) => c.name === r.name)?.image;
      if (image) r.updateImage(image);
    }
  }

  private graceMs(): number {
    const seconds = this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    return Math.max(0, seconds * 1000);
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void {
    this.ctx.events.record({ ...this.key, ...(fieldPath ? { fieldPath } : {}) }, type, reason, message, { host: this.node.name });
  }

  /** Volumes and env for a container start: looks up ConfigMaps/Secrets through the API. */
  private async prepare(containerName: string): Promise<PreparedContainer> {
    const { namespace, name, uid } = this.key;
    const refs = referencedSources(this.pod);
    const sources: EnvSources = { configMaps: {}, secrets: {} };
    await Promise.all([
      ...[...refs.configMaps].map(async (cm) => {
        sources.configMaps[cm] = await this.ctx.core.readNamespacedConfigMap({ name: cm, namespace }).then(
          (o) => ({ ...(o.data ?? {}) }),
          (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)),
        );
      }),
      ...[...refs.secrets].map(async (s) => {
        sources.secrets[s] = await this.ctx.core.readNamespacedSecret({ name: s, namespace }).then(
          (o) => ({ ...decode(o.data), ...(o.stringData ?? {}) }),
          (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)),
        );
      }),
    ]);
    const container = [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])].find(
      (c) => c.name === containerName,
    );
    if (!container) throw new Error(`container ${containerName} not in pod spec`);
    const volumeDirs = prepareVolumes(
      this.ctx.stateDir,
      { namespace, name, uid },
      (this.pod.spec?.volumes ?? []) as VolumeSource[],
      sources,
    );
    const mounts = containerMounts(container.volumeMounts ?? [], volumeDirs);
    const podWithIP: V1Pod = { ...this.pod, status: { ...this.pod.status, podIP: this.podIP, hostIP: this.node.hostIP } };
    const env = {
      ...containerEnv(podWithIP, container, sources),
      HOSTNAME: name,
      KUBECONFIG: this.ctx.kubeconfigPath,
      POD_NAME: name,
      POD_NAMESPACE: namespace,
      NODE_NAME: this.node.name,
      PD_TWIN_STATE_DIR: this.ctx.stateDir,
    };
    const podDir = podVolumesDir(this.ctx.stateDir, { namespace, name, uid });
    const scratchDir = path.join(podDir, 'root', containerName);
    fs.mkdirSync(scratchDir, { recursive: true });
    return { env, mounts, scratchDir, rootfs: path.join(podDir, 'rootfs', containerName) };
  }

  private renderStatus(): Record<string, unknown> {
    const views = this.runners.map((r) => r.view());
    const phase = podPhase(views, this.init);
    const conditions = podConditions(views, phase, this.conditionsSince, new Date(), this.init);
    for (const c of conditions) this.conditionsSince.set(c.type, c);
    return {
      phase,
      conditions,
      hostIP: this.node.hostIP,
      hostIPs: [{ ip: this.node.hostIP }],
      podIP: this.podIP,
      podIPs: [{ ip: this.podIP }],
      startTime: rfc3339(this.startTime),
      qosClass: 'BestEffort',
      ...(this.initRunners.length > 0 ? { initContainerStatuses: this.initRunners.map((r) => containerStatus(r.view())) } : {}),
      containerStatuses: views.map(containerStatus),
    };
  }

  scheduleStatus(): void {
    if (this.closed || this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.statusWrite = this.statusWrite.then(() => this.writeStatus());
    }, STATUS_COALESCE_MS);
  }

  private async writeStatus(): Promise<void> {
    if (this.closed) return;
    const status = this.renderStatus();
    const json = JSON.stringify(status);
    if (json === this.lastStatusJson) return;
    const { name, namespace } = this.key;
    try {
      await this.ctx.core.patchNamespacedPodStatus(
        { name, namespace, body: { status } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      this.lastStatusJson = json;
    } catch (err) {
      if (isNotFound(err)) return;
      // Transient API trouble: try again shortly.
      if (!this.closed) setTimeout(() => this.scheduleStatus(), 500).unref();
    }
  }

  /** Graceful deletion: stop containers within the grace period, then remove the pod object. */
  terminate(options: { deleteObject: boolean; graceMs?: number }): Promise<void> {
    this.terminating ??= (async () => {
      const grace = options.graceMs ?? this.graceMs();
      await Promise.all([...this.initRunners, ...this.runners].map((r) => r.stop(grace)));
      // The pod leaves the node: its volumes go (an emptyDir's data with them), before the object is removed, as
      // the kubelet tears a pod's volumes down before its status manager lets the API object go (canBeDeleted)
      await fs.promises.rm(podVolumesDir(this.ctx.stateDir, this.key), { recursive: true, force: true }).catch(() => undefined);
      if (this.statusTimer) {
        clearTimeout(this.statusTimer);
        this.statusTimer = undefined;
      }
      await this.statusWrite;
      if (options.deleteObject) {
        await this.writeStatus();
        const { name, namespace, uid } = this.key;
        await this.ctx.core
          .deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0, body: { gracePeriodSeconds: 0, preconditions: { uid } } })
          .catch(() => undefined);
      }
      this.closed = true;
    })();
    return this.terminating;
  }

  /** Stops every container without touching the API (kubelet shutdown). */
  async shutdown(maxGraceMs: number): Promise<void> {
    this.closed = true;
    if (this.statusTimer) clearTimeout(this.statusTimer);
    await Promise.all([...this.initRunners, ...this.runners].map((r) => r.stop(Math.min(maxGraceMs, this.graceMs()))));
    await this.terminating?.catch(() => undefined);
  }
}

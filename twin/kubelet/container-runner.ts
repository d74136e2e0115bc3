import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { V1Container } from '#client-node';
import { ContainerCreateError, ImagePullError, baseEnv, rootfsEnv, startContainer, type ContainerHandle } from '../runtime/supervisor.ts';
import { podLogPath, type LogRotation } from '../runtime/cri-log.ts';
import { rewriteMountedPath, type MountTable } from '../runtime/mounts.ts';
import { ProbeWorker, type ProbeKind } from './probe-worker.ts';
import { rfc3339, terminatedFromExit, type ContainerState, type ContainerView } from './status.ts';

/** Restart back-off of the twin: 0.5 s doubling to 10 s (Kubernetes: 10 s doubling to 5 min). */
export const BACKOFF_INITIAL_MS = 500;
export const BACKOFF_MAX_MS = 10_000;
/** A container that ran this long without trouble gets its back-off reset. */
const BACKOFF_RESET_AFTER_MS = 20_000;

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface RunnerEnvironment {
  podKey: { namespace: string; name: string; uid: string };
  podIP: string;
  /** The node's address: probes come from it. */
  hostIP?: string;
  stateDir: string;
  hostsFile: string;
  logRotation: LogRotation;
  restartPolicy: RestartPolicy;
  terminationGraceMs: number;
  /** Resolved per start, so restarts see current ConfigMaps/Secrets/env. */
  prepare(): Promise<PreparedContainer>;
  event(type: 'Normal' | 'Warning', reason: string, message: string): void;
  changed(): void;
}

/** What a container start is given: its environment, volume mounts, working directory and own root (supervisor.ts). */
export interface PreparedContainer {
  env: Record<string, string>;
  mounts: MountTable;
  scratchDir: string;
  rootfs: string;
}

export function imageIdFor(image: string): string {
  const digest = createHash('sha256').update(image).digest('hex');
  return `${image.split('@')[0]!.replace(/:[^/:]+$/, '')}@sha256:${digest}`;
}

/** Runs one container of a pod: start, probes, exits, restarts with back-off, status. */
export class ContainerRunner {
  private state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  private lastState: ContainerState = {};
  private restartCount = 0;
  private ready = false;
  private started = false;
  private containerID: string | undefined;
  private willRestart = true;
  private handle: ContainerHandle | undefined;
  private probes: ProbeWorker[] = [];
  private stopping = false;
  private readonly wake = new AbortController();
  private loop: Promise<void> | undefined;
  private killReason: string | undefined;
  /** What the running process was started with, for `kubectl exec` (exec.ts). */
  private startedWith: PreparedContainer | undefined;

  constructor(
    private container: V1Container,
    private readonly env: RunnerEnvironment,
    options: { waitingReason?: string } = {},
  ) {
    if (options.waitingReason) this.state = { waiting: { reason: options.waitingReason } };
  }

  /** Resolves when the container has ended for good (no more restarts), or was stopped. */
  finished(): Promise<ContainerView> {
    this.start();
    return this.loop!.then(() => this.view());
  }

  get name(): string {
    return this.container.name;
  }

  get pid(): number | undefined {
    return this.handle && this.state.running ? this.handle.pid : undefined;
  }

  /** The environment and working directory of the running container (its process's), or undefined. */
  execContext(): { env: Record<string, string>; cwd: string } | undefined {
    if (!this.state.running || !this.startedWith) return undefined;
    const { env, mounts, scratchDir, rootfs } = this.startedWith;
    const wd = this.container.workingDir ? rewriteMountedPath(this.container.workingDir, mounts) : undefined;
    return { env: { ...baseEnv(), ...env, ...rootfsEnv(rootfs) }, cwd: wd && fs.existsSync(wd) ? wd : scratchDir };
  }

  view(): ContainerView {
    return {
      name: this.container.name,
      image: this.container.image ?? '',
      imageID: this.containerID ? imageIdFor(this.container.image ?? '') : '',
      ...(this.containerID ? { containerID: this.containerID } : {}),
      ready: this.ready,
      started: this.started,
      restartCount: this.restartCount,
      state: this.state,
      lastState: this.lastState,
      willRestart: this.willRestart,
    };
  }

  start(): void {
    this.loop ??= this.run().catch((err: unknown) => {
      this.state = { waiting: { reason: 'RunContainerError', message: String(err) } };
      this.env.changed();
    });
  }

  /** Stops the loop and the process (SIGTERM, SIGKILL after graceMs). Resolves when it is gone. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    this.stopProbes();
    if (this.handle) {
      if (this.state.running) this.env.event('Normal', 'Killing', `Stopping container ${this.name}`);
      await this.handle.stop(graceMs);
    }
    await this.loop;
  }

  /**
   * The pod's spec changed this container's image (e.g. `kubectl set image` on a bare pod): the running
   * container is killed and started again with the new image, like the kubelet does on a changed spec.
   */
  updateImage(image: string): void {
    if (image === this.container.image || this.stopping) return;
    this.container = { ...this.container, image };
    this.specChanged = true;
    if (this.handle && this.state.running) this.kill(this.handle, `Container ${this.name} definition changed, will be restarted`);
    else this.interruptSleep?.();
  }

  private specChanged = false;
  private interruptSleep: (() => void) | undefined;

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.wake.signal.aborted) return resolve();
      const onAbort = () => {
        clearTimeout(t);
        this.interruptSleep = undefined;
        resolve();
      };
      this.interruptSleep = () => {
        this.wake.signal.removeEventListener('abort', onAbort);
        onAbort();
      };
      const t = setTimeout(() => {
        this.wake.signal.removeEventListener('abort', onAbort);
        this.interruptSleep = undefined;
        resolve();
      }, ms);
      this.wake.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private async run(): Promise<void> {
    let backoff = BACKOFF_INITIAL_MS;
    let pulledImage: string | undefined;
    while (!this.stopping) {
      const image = this.container.image ?? '';
      this.specChanged = false;
      let handle: ContainerHandle;
      try {
        const prepared = await this.env.prepare();
        if (this.stopping) break;
        handle = startContainer({
          image,
          command: this.container.command,
          args: this.container.args,
          env: prepared.env,
          ports: (this.container.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.name ? { name: p.name } : {}) })),
          workingDir: this.container.workingDir,
          mounts: prepared.mounts,
          podIP: this.env.podIP,
          scratchDir: prepared.scratchDir,
          rootfs: prepared.rootfs,
          hostsFile: this.env.hostsFile,
          logPath: podLogPath(this.env.stateDir, this.env.podKey, this.name, this.restartCount),
          logRotation: this.env.logRotation,
          pidRegistry: { stateDir: this.env.stateDir, pod: `${this.env.podKey.namespace}/${this.env.podKey.name}/${this.name}` },
        });
        this.startedWith = prepared;
      } catch (err) {
        if (this.stopping) break;
        const message = err instanceof Error ? err.message : String(err);
        if (err instanceof ImagePullError) {
          this.env.event('Normal', 'Pulling', `Pulling image "${image}"`);
          this.env.event('Warning', 'Failed', message);
          this.env.event('Warning', 'Failed', 'Error: ErrImagePull');
          this.state = { waiting: { reason: 'ErrImagePull', message } };
          this.env.changed();
          await this.sleep(backoff);
          if (this.stopping) break;
          if (this.specChanged) continue;
          this.env.event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
          this.env.event('Warning', 'Failed', 'Error: ImagePullBackOff');
          this.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${message}` } };
          this.env.changed();
        } else {
          const reason = err instanceof ContainerCreateError ? 'CreateContainerError' : 'CreateContainerConfigError';
          this.env.event('Warning', 'Failed', `Error: ${message}`);
          this.state = { waiting: { reason, message } };
          this.env.changed();
        }
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
        continue;
      }
      this.handle = handle;
      if (pulledImage !== image) this.env.event('Normal', 'Pulled', `Container image "${image}" already present on machine`);
      pulledImage = image;
      this.containerID = `containerd://${createHash('sha256').update(`${this.env.podKey.uid}/${this.name}/${handle.pid}/${handle.startedAt.getTime()}`).digest('hex')}`;
      this.env.event('Normal', 'Created', `Created container: ${this.name}`);
      this.env.event('Normal', 'Started', `Started container ${this.name}`);
      this.state = { running: { startedAt: rfc3339(handle.startedAt) } };
      this.killReason = undefined;
      this.startProbes(handle);
      this.env.changed();
      // The image changed while this one was being started.
      if (this.specChanged) this.kill(handle, `Container ${this.name} definition changed, will be restarted`);

      const exit = await handle.exited;
      this.stopProbes();
      this.ready = false;
      this.started = false;
      const terminated = terminatedFromExit(exit, { startedAt: handle.startedAt, finishedAt: exit.finishedAt }, this.containerID);
      if (this.killReason) terminated.message = this.killReason;
      const failed = terminated.exitCode !== 0;
      const restart =
        !this.stopping && (this.specChanged || this.env.restartPolicy === 'Always' || (this.env.restartPolicy === 'OnFailure' && failed));
      if (!restart) {
        this.state = { terminated };
        this.willRestart = false;
        this.env.changed();
        return;
      }
      this.lastState = { terminated };
      if (this.specChanged) {
        this.restartCount++;
        continue;
      }
      if (exit.finishedAt.getTime() - handle.startedAt.getTime() > BACKOFF_RESET_AFTER_MS) backoff = BACKOFF_INITIAL_MS;
      const podId = `${this.env.podKey.name}_${this.env.podKey.namespace}(${this.env.podKey.uid})`;
      this.state = {
        waiting: {
          reason: 'CrashLoopBackOff',
          message: `back-off ${formatBackoff(backoff)} restarting failed container=${this.name} pod=${podId}`,
        },
      };
      this.env.event('Warning', 'BackOff', `Back-off restarting failed container ${this.name} in pod ${podId}`);
      this.env.changed();
      await this.sleep(backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      if (this.stopping) {
        this.state = { terminated };
        this.willRestart = false;
        this.env.changed();
        return;
      }
      this.restartCount++;
    }
  }

  private startProbes(handle: ContainerHandle): void {
    const ports = (this.container.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.name ? { name: p.name } : {}) }));
    const make = (kind: ProbeKind, probe: NonNullable<V1Container['readinessProbe']>, onVerdict: (ok: boolean) => void) =>
      new ProbeWorker(
        kind,
        probe,
        this.env.podIP,
        ports,
        {
          onVerdict,
          onFailure: (message) => this.env.event('Warning', 'Unhealthy', `${kind} probe failed: ${message}`),
        },
        this.env.hostIP,
      );
    const afterStartup = () => {
      this.started = true;
      if (this.container.readinessProbe) {
        const w = make('Readiness', this.container.readinessProbe, (ok) => {
          this.ready = ok;
          this.env.changed();
        });
        this.probes.push(w);
        w.start();
      } else {
        this.ready = true;
      }
      if (this.container.livenessProbe) {
        const w = make('Liveness', this.container.livenessProbe, (ok) => {
          if (!ok) this.kill(handle, `Container ${this.name} failed liveness probe, will be restarted`);
        });
        this.probes.push(w);
        w.start();
      }
      this.env.changed();
    };
    if (this.container.startupProbe) {
      const w = make('Startup', this.container.startupProbe, (ok) => {
        if (ok) afterStartup();
        else this.kill(handle, `Container ${this.name} failed startup probe, will be restarted`);
      });
      this.probes.push(w);
      w.start();
    } else {
      afterStartup();
    }
  }

  private kill(handle: ContainerHandle, message: string): void {
    if (this.killReason) return;
    this.killReason = message;
    this.stopProbes();
    this.env.event('Normal', 'Killing', message);
    void handle.stop(this.env.terminationGraceMs);
  }

  private stopProbes(): void {
    for (const p of this.probes) p.stop();
    this.probes = [];
  }
}

function formatBackoff(ms: number): string {
  return ms < 1000 ? `${ms}ms` : ms % 60_000 === 0 ? `${ms / 60_000}m0s` : `${ms / 1000}s`;
}

import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import * as path from 'node:path';
import { packageRoot } from '../../common/build.mjs';
import { CriLogWriter, type LogRotation } from './cri-log.ts';
import { nodeArgvFor, resolveImage } from './images.ts';
import { rewriteMountedArgs, rewriteMountedPath } from './mounts.ts';
import { recordPid, removePid, selfRecordEnv } from './pidfiles.ts';

// The preload is plain JavaScript: always the source file, also when this module runs from dist/.
export const PRELOAD_URL = pathToFileURL(path.join(packageRoot(import.meta.url), 'twin', 'runtime', 'preload.mjs')).href;
// Resolved from this file, so a pod whose working directory is elsewhere still finds tsx.
export const TSX_URL = import.meta.resolve('tsx');

export interface ContainerSpec {
  image: string;
  command?: string[];
  args?: string[];
  /** The container's environment (after the kubelet resolved valueFrom etc.). */
  env?: Record<string, string>;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  workingDir?: string;
  /** Container mount path -> host directory. */
  mounts?: Record<string, string>;
  podIP: string;
  /** Where stdout/stderr go, in CRI format. */
  logPath: string;
  /** How the log file is rotated (the kubelet's containerLogMaxSize / MaxFiles). Default: the kubelet's defaults. */
  logRotation?: LogRotation;
  /** Working directory when the container names none (or one that is not a mount). */
  scratchDir?: string;
  /** Path of the JSON hosts file the preload resolves Service names from. */
  hostsFile?: string;
  /**
   * The container's own writable root on the host: made empty at start, its `tmp/` is the process's TMPDIR (a
   * container's /tmp is its own), and removed once the process has exited, as a container runtime removes a
   * container's writable layer (a restart starts from an empty one). Without it the process gets the host's TMPDIR.
   */
  rootfs?: string;
  /** Records the process in `<stateDir>/pids/` while it runs. */
  pidRegistry?: { stateDir: string; pod: string };
}

export interface ContainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  finishedAt: Date;
}

export interface ContainerHandle {
  pid: number;
  startedAt: Date;
  /** Resolves once the process exited and its output is in the log file. */
  exited: Promise<ContainerExit>;
  /** SIGTERM to the process group, SIGKILL after graceMs. Idempotent; resolves with the exit. */
  stop(graceMs: number): Promise<ContainerExit>;
  /** Sends a signal to the whole process group (ignored once exited). */
  signal(signal: NodeJS.Signals): void;
}

/** The image cannot be run by the twin: the kubelet reports ErrImagePull / ImagePullBackOff. */
export class ImagePullError extends Error {
  readonly reason = 'ErrImagePull';
}

/** The image is known but the container cannot be created (e.g. its program file is missing). */
export class ContainerCreateError extends Error {
  readonly reason = 'CreateContainerError';
}

/** Minimal host environment a Node program needs; the host's own environment does not leak in. */
export function baseEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const v = process.env[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** What a container's environment says about its own root (ContainerSpec.rootfs); `kubectl exec` gets the same. */
export function rootfsEnv(rootfs: string | undefined): Record<string, string> {
  return rootfs ? { PD_TWIN_ROOTFS: rootfs, TMPDIR: path.join(rootfs, 'tmp') } : {};
}

/** Builds the argv (after the node binary) and checks the program exists. Throws ImagePullError/ContainerCreateError. */
export function planContainer(spec: ContainerSpec): { argv: string[]; cwd: string } {
  const image = resolveImage(spec.image, spec.command ?? [], spec.args ?? []);
  if (!image.ok) throw new ImagePullError(image.message);
  const mounts = spec.mounts ?? {};
  const program = rewriteMountedPath(image.program, mounts);
  const args = rewriteMountedArgs(image.args, mounts);
  const workingDir = spec.workingDir ? rewriteMountedPath(spec.workingDir, mounts) : undefined;
  const cwd = workingDir && fs.existsSync(workingDir) ? workingDir : (spec.scratchDir ?? process.cwd());
  const programPath = path.resolve(cwd, program);
  if (!fs.existsSync(programPath)) {
    throw new ContainerCreateError(`program ${program} for image ${spec.image} does not exist on the host (${programPath})`);
  }
  const prof = process.env.PD_TWIN_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PD_TWIN_PROF_DIR}`] : [];
  return { argv: [...prof, ...nodeArgvFor(programPath, PRELOAD_URL, TSX_URL), ...args], cwd };
}

/** Starts a container's program as its own process group. Throws ImagePullError / ContainerCreateError. */
export function startContainer(spec: ContainerSpec): ContainerHandle {
  const { argv, cwd } = planContainer(spec);
  if (spec.rootfs) {
    fs.rmSync(spec.rootfs, { recursive: true, force: true }); // what a SIGKILLed twin host left
    fs.mkdirSync(path.join(spec.rootfs, 'tmp'), { recursive: true });
  }
  const removeRootfs = () =>
    spec.rootfs ? fs.promises.rm(spec.rootfs, { recursive: true, force: true }).catch(() => undefined) : undefined;
  const env: Record<string, string> = {
    ...baseEnv(),
    ...(spec.env ?? {}),
    ...rootfsEnv(spec.rootfs),
    POD_IP: spec.podIP,
    PD_TWIN_MOUNTS: JSON.stringify(spec.mounts ?? {}),
    ...(spec.hostsFile ? { PD_TWIN_HOSTS_FILE: spec.hostsFile } : {}),
    // the process records itself too (preload.mjs), should this process die before recordPid below
    ...(spec.pidRegistry ? selfRecordEnv(spec.pidRegistry.stateDir, spec.pidRegistry.pod) : {}),
  };
  const log = new CriLogWriter(spec.logPath, spec.logRotation);
  const child = spawn(process.execPath, argv, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) {
    log.close();
    void removeRootfs();
    throw new ContainerCreateError(`could not start ${process.execPath} for image ${spec.image}`);
  }
  const startedAt = new Date();
  if (spec.pidRegistry) recordPid(spec.pidRegistry.stateDir, { pid, pgid: pid, pod: spec.pidRegistry.pod });
  child.stdout.on('data', (chunk: Buffer) => log.write('stdout', chunk));
  child.stderr.on('data', (chunk: Buffer) => log.write('stderr', chunk));

  let done = false;
  const exited = new Promise<ContainerExit>((resolve) => {
    let exit: ContainerExit | undefined;
    const finish = () => {
      if (done || !exit) return;
      done = true;
      log.close();
      if (spec.pidRegistry) removePid(spec.pidRegistry.stateDir, pid);
      const result = exit;
      void Promise.resolve(removeRootfs()).then(() => resolve(result));
    };
    child.on('exit', (code, signal) => {
      exit = { code, signal, finishedAt: new Date() };
      // When a container's main process ends, the runtime tears down everything else in it.
      killGroup(pid, 'SIGKILL');
      // 'close' follows once the pipes drained; don't hang if some grandchild kept them open.
      setTimeout(finish, 2000).unref();
    });
    child.on('close', finish);
    child.on('error', () => {
      exit ??= { code: null, signal: null, finishedAt: new Date() };
      finish();
    });
  });

  let stopping: Promise<ContainerExit> | undefined;
  const handle: ContainerHandle = {
    pid,
    startedAt,
    exited,
    signal(sig) {
      if (!done) killGroup(pid, sig);
    },
    stop(graceMs) {
      if (stopping) return stopping;
      if (done) return (stopping = exited);
      killGroup(pid, 'SIGTERM');
      const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), Math.max(0, graceMs));
      stopping = exited.finally(() => clearTimeout(timer));
      return stopping;
    },
  };
  return handle;
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone
  }
}

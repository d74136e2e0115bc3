import * as fs from 'node:fs';
import * as path from 'node:path';

/** Mount path -> host directory, as passed to a container (and to it as PD_TWIN_MOUNTS). */
export type MountTable = Record<string, string>;

function byLongestMountPath(mounts: MountTable): [string, string][] {
  return Object.entries(mounts).sort((a, b) => b[0].length - a[0].length);
}

/** `/kv_cache/x` with `/kv_cache` mounted from `/host/dir` -> `/host/dir/x`; other paths unchanged. */
export function rewriteMountedPath(p: string, mounts: MountTable): string {
  for (const [mountPath, hostDir] of byLongestMountPath(mounts)) {
    const mp = mountPath.replace(/\/+$/, '') || '/';
    if (p === mp) return hostDir;
    if (p.startsWith(mp === '/' ? '/' : `${mp}/`)) return path.join(hostDir, p.slice(mp.length));
  }
  return p;
}

/** Rewrites arguments that are mounted paths, including the value of `--flag=/path`. */
export function rewriteMountedArgs(args: readonly string[], mounts: MountTable): string[] {
  return args.map((arg) => {
    if (arg.startsWith('/')) return rewriteMountedPath(arg, mounts);
    const m = /^(--?[^=\s]+=)(\/.*)$/.exec(arg);
    if (m) return m[1]! + rewriteMountedPath(m[2]!, mounts);
    return arg;
  });
}

// --- volumes ---------------------------------------------------------------------------------

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

/** The subset of core/v1 Volume the twin supports. */
export interface VolumeSource {
  name: string;
  emptyDir?: object;
  configMap?: { name?: string; items?: KeyToPath[]; optional?: boolean };
  secret?: { secretName?: string; items?: KeyToPath[]; optional?: boolean };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  hostPath?: { path: string };
}

/** Data the kubelet looked up for configMap / secret volumes (secret values already base64-decoded). */
export interface VolumeData {
  configMaps: Record<string, Record<string, string> | undefined>;
  secrets: Record<string, Record<string, string> | undefined>;
}

export class VolumeError extends Error {}

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

/** Where the kubelet keeps its pods' directories (volumes, containers' roots); PVCs and hostPaths live beside it. */
export function podsDir(stateDir: string): string {
  return path.join(stateDir, 'volumes', 'pods');
}

export function podVolumesDir(stateDir: string, pod: PodRef): string {
  return path.join(podsDir(stateDir), `${pod.namespace}_${pod.name}_${pod.uid}`);
}

/** The host directory of each of a pod's volumes, created and filled. Throws VolumeError for what it cannot provide. */
export function prepareVolumes(stateDir: string, pod: PodRef, volumes: readonly VolumeSource[], data: VolumeData): Record<string, string> {
  const out: Record<string, string> = {};
  const podDir = podVolumesDir(stateDir, pod);
  for (const v of volumes) {
    if (v.emptyDir) {
      out[v.name] = ensureDir(path.join(podDir, 'empty-dir', v.name));
    } else if (v.configMap) {
      const name = v.configMap.name ?? '';
      const content = data.configMaps[name];
      if (!content && !v.configMap.optional) throw new VolumeError(`configmap "${name}" not found`);
      out[v.name] = writeKeyFiles(path.join(podDir, 'configmap', v.name), content ?? {}, v.configMap.items);
    } else if (v.secret) {
      const name = v.secret.secretName ?? '';
      const content = data.secrets[name];
      if (!content && !v.secret.optional) throw new VolumeError(`secret "${name}" not found`);
      out[v.name] = writeKeyFiles(path.join(podDir, 'secret', v.name), content ?? {}, v.secret.items);
    } else if (v.persistentVolumeClaim) {
      out[v.name] = ensureDir(path.join(stateDir, 'volumes', 'pvc', pod.namespace, safeName(v.persistentVolumeClaim.claimName)));
    } else if (v.hostPath) {
      out[v.name] = ensureDir(path.join(stateDir, 'volumes', 'hostpath', safeRelative(v.hostPath.path)));
    } else {
      throw new VolumeError(
        `volume "${v.name}": unsupported volume type in the twin (emptyDir, configMap, secret, persistentVolumeClaim, hostPath are)`,
      );
    }
  }
  return out;
}

/** Mount path -> host dir for a container, from its volumeMounts (subPath honoured). */
export function containerMounts(
  volumeMounts: readonly { name: string; mountPath: string; subPath?: string }[],
  volumeDirs: Record<string, string>,
): MountTable {
  const out: MountTable = {};
  for (const m of volumeMounts) {
    const dir = volumeDirs[m.name];
    if (dir === undefined) throw new VolumeError(`volumeMount "${m.name}" names no volume of the pod`);
    out[m.mountPath] = m.subPath ? path.join(dir, safeRelative(m.subPath)) : dir;
  }
  return out;
}

function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function writeKeyFiles(dir: string, content: Record<string, string>, items: readonly KeyToPath[] | undefined): string {
  fs.rmSync(dir, { recursive: true, force: true });
  ensureDir(dir);
  const entries =
    items && items.length > 0
      ? items.map((i) => [i.path, content[i.key], i.key] as const)
      : Object.entries(content).map(([k, v]) => [k, v, k] as const);
  for (const [rel, value, key] of entries) {
    if (value === undefined) throw new VolumeError(`key "${key}" not found`);
    const file = path.join(dir, safeRelative(rel));
    ensureDir(path.dirname(file));
    fs.writeFileSync(file, value);
  }
  return dir;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A path made relative and kept inside its base (no `..` escapes). */
function safeRelative(p: string): string {
  const norm = path.posix.normalize(`/${p}`).replace(/^\/+/, '');
  return norm === '' ? '_root' : norm;
}

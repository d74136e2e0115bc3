/**
 * ExampleConnector stand-in: the prefill writes `<shared_storage_path>/<request id>/kv.bin`, the decode polls for
 * it. Container paths go through PD_TWIN_MOUNTS (mountPath → host dir), so with the seed's per-pod emptyDir the
 * two pods look at different host directories and the decode never finds the block.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep } from '../latency.ts';

/** Maps a container path through the mounts table (longest mountPath prefix wins); unmapped paths stay as they are. */
export function resolveMountedPath(containerPath: string, mountsJson: string | undefined): string {
  if (!mountsJson) return containerPath;
  let mounts: Record<string, unknown>;
  try {
    mounts = JSON.parse(mountsJson) as Record<string, unknown>;
  } catch {
    return containerPath;
  }
  let best: [string, string] | undefined;
  for (const [mountPath, hostDir] of Object.entries(mounts)) {
    if (typeof hostDir !== 'string') continue;
    const mp = mountPath.replace(/\/+$/, '') || '/';
    const under = containerPath === mp || containerPath.startsWith(mp === '/' ? '/' : mp + '/');
    if (under && (!best || mp.length > best[0].length)) best = [mp, hostDir];
  }
  if (!best) return containerPath;
  const rest = containerPath.slice(best[0].length).replace(/^\/+/, '');
  return rest ? path.join(best[1], rest) : best[1];
}

/** A request id as one directory name: `/` and NUL cannot appear in one. */
export function blockDirName(requestId: string): string {
  return requestId.replace(/[/\0]/g, '_');
}

export function blockFile(storageDir: string, requestId: string): string {
  return path.join(storageDir, blockDirName(requestId), 'kv.bin');
}

/** Writes atomically (temp file + rename) so a polling reader never sees half a block. */
export async function writeBlockFile(storageDir: string, requestId: string, bytes: Buffer): Promise<string> {
  const file = blockFile(storageDir, requestId);
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.promises.writeFile(tmp, bytes);
  await fs.promises.rename(tmp, file);
  return file;
}

/** Polls for the block file up to timeoutMs; returns its size (and removes it) or undefined. */
export async function takeBlockFile(
  storageDir: string,
  requestId: string,
  timeoutMs: number,
  signal?: AbortSignal,
  pollMs = 10,
): Promise<number | undefined> {
  const file = blockFile(storageDir, requestId);
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    try {
      const st = await fs.promises.stat(file);
      await fs.promises.rm(path.dirname(file), { recursive: true, force: true });
      return st.size;
    } catch {
      // not there (yet)
    }
    if (signal?.aborted || Date.now() >= deadline) return undefined;
    try {
      await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), signal);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

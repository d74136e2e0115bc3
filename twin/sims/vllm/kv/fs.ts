/**
 * ExampleConnector (formerly SharedStorageConnector) as vLLM implements it (vllm-project/vllm
 * vllm/distributed/kv_transfer/kv_connector/v1/example_connector.py; read at stored commit 00231834, whose
 * hashing and alignment match v0.15.0): stored KV is keyed by a hash of the prompt's token ids, cut to a block
 * boundary, never by request id and never by role.
 *
 * - Lookup (scheduler, get_num_new_matched_tokens → _found_match_for_prompt): n = align(len(prompt) - 1, 16);
 *   n <= 0 → no match; else match when the folder `<shared_storage_path>/<md5 of the int64 bytes of ids[:n]>`
 *   exists. The connector does not wait: the folder is there when the request is scheduled, or not.
 * - Store (build_connector_meta + save_kv_layer): a request that found no match stores its first
 *   align(len(prompt), 16) tokens under their hash, one safetensors file per attention layer. A prompt shorter
 *   than 2 tokens stores an empty tensor under the hash of no tokens (what make_meta's empty ReqMeta gives).
 *   Files are never removed.
 *
 * So a prompt of 17 tokens or fewer never hits; a repeated prompt hits on any pod that ran it before (prefill or
 * decode alike); and a prompt of 16k+1 tokens stores its first 16k tokens but looks up its first 16(k-1), so
 * repeating it alone never hits (only after a prompt that stored that shorter prefix).
 *
 * Container paths go through PD_TWIN_MOUNTS (mountPath → host dir): with the seed's per-pod emptyDir the prefill
 * and decode look at different host directories, so the decode never sees the prefill's files.
 *
 * Simplification: one file per prompt (`model.layers.0.self_attn.attn.safetensors`, a small JSON header and
 * `tokens × bytesPerToken` bytes) instead of one per attention layer.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BLOCK_SIZE = 16;
export const LAYER_FILE = 'model.layers.0.self_attn.attn.safetensors';

/** example_connector.py align_to_block_size: (n - 1) // block * block, 0 for n <= 0. */
export function alignToBlockSize(numTokens: number, blockSize = BLOCK_SIZE): number {
  if (numTokens <= 0) return 0;
  return Math.floor((numTokens - 1) / blockSize) * blockSize;
}

/** md5 hex of the ids as little-endian int64 (torch.tensor(ids).numpy().tobytes() on x86). */
export function tokenHash(ids: readonly number[]): string {
  const buf = Buffer.alloc(ids.length * 8);
  ids.forEach((id, i) => buf.writeBigInt64LE(BigInt(Math.trunc(id)), i * 8));
  return createHash('md5').update(buf).digest('hex');
}

/** The folder the lookup checks, or undefined when the prompt is too short to ever match. */
export function lookupFolder(storageDir: string, ids: readonly number[]): { folder: string; tokens: number } | undefined {
  if (ids.length === 0) return undefined;
  const n = alignToBlockSize(ids.length - 1);
  if (n <= 0) return undefined;
  return { folder: path.join(storageDir, tokenHash(ids.slice(0, n))), tokens: n };
}

/** The folder a store writes to and how many tokens it holds. */
export function storeFolder(storageDir: string, ids: readonly number[]): { folder: string; tokens: number } {
  const n = alignToBlockSize(ids.length);
  return { folder: path.join(storageDir, tokenHash(ids.slice(0, n))), tokens: n };
}

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

/**
 * Where a container path lives on the host: under its volume when one is mounted there, else in the container's
 * own filesystem, which the twin keeps in a private directory per simulator (`rootfs`, removed on stop) — so an
 * unmounted `/tmp` (ExampleConnector's default) is private to the pod, as in a container, and never the host's.
 */
export function containerPathOnHost(containerPath: string, mountsJson: string | undefined, rootfs: string): string {
  const mapped = resolveMountedPath(containerPath, mountsJson);
  if (mapped !== containerPath) return mapped;
  return path.join(rootfs, containerPath.replace(/^\/+/, ''));
}

/** os.path.exists of the folder, synchronous as the connector's lookup is (a stat of a local directory). */
export function folderExists(folder: string): boolean {
  try {
    return fs.statSync(folder).isDirectory();
  } catch {
    return false;
  }
}

/**
 * safetensors layout: u64 LE header length | JSON header | data. Written in place and synchronously, as the
 * real connector's save does (ExampleConnector.save_kv_layer: os.makedirs, then safetensors' save_file, in
 * the engine's own thread): requests whose block-aligned prompts are equal (every prompt of 16 tokens or fewer
 * hashes the empty token list) write the same file one after the other, and none of them fails. (Through
 * fs.promises, a temp file and a rename, a save cost six thread-pool round trips: ~40% of a direct FS
 * request's CPU in the pod.)
 */
export function writeLayerFile(folder: string, tokens: number, bytesPerToken: number): string {
  const size = tokens * bytesPerToken;
  const header = Buffer.from(JSON.stringify({ kv_cache: { dtype: 'U8', shape: [size], data_offsets: [0, size] } }), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length), 0);
  const file = path.join(folder, LAYER_FILE);
  const data = Buffer.concat([len, header, Buffer.alloc(size)]);
  // the folder is made once per process (a recursive mkdir per save was a quarter of a save's CPU); when something
  // removed it since (a cleared volume), the write fails with ENOENT and the folder is made again
  if (!madeFolders.has(folder)) makeFolder(folder);
  try {
    overwrite(file, data);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    makeFolder(folder);
    overwrite(file, data);
  }
  return file;
}

/**
 * The file's bytes become `data`. An existing file is opened without O_TRUNC and cut only when its size
 * differs: every prompt of 16 tokens or fewer saves the same key, and truncating a just-written file to
 * rewrite it makes ext4 flush it (auto_da_alloc), ~0.3 ms per save here. The content is the same as save_file's.
 */
function overwrite(file: string, data: Buffer): void {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.writeFileSync(file, data);
    return;
  }
  try {
    if (fs.fstatSync(fd).size !== data.length) fs.ftruncateSync(fd, data.length);
    fs.writeSync(fd, data, 0, data.length, 0);
  } finally {
    fs.closeSync(fd);
  }
}

const madeFolders = new Set<string>();

function makeFolder(folder: string): void {
  fs.mkdirSync(folder, { recursive: true });
  madeFolders.add(folder);
}

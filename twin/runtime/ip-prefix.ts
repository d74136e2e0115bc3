/**
 * One twin per pod address prefix on a machine. A twin's pods live at `<prefix>.x.y` on loopback (127.N.0.2 and
 * up, in the order pods are created), so two twins on one prefix hand out the same addresses: the second twin's
 * pods fail to bind (EADDRINUSE) or, worse, its probes, gateway and EPP reach the first twin's pods. Tests and
 * Playwright workers run several twins at once, each on a random prefix: without a lock, 1 in 224 pairs collided.
 *
 * The lock is a listening socket on `<prefix>.0.1:PREFIX_LOCK_PORT`, held by the kubelet while it runs: the kernel
 * refuses a second bind (EADDRINUSE) across processes, and frees it when the holder exits, even on SIGKILL, so a
 * lock never outlives its twin.
 */
import * as net from 'node:net';

/** `ipPrefix: 'random'`: a free prefix picked at random (127.16 to 127.239). */
export const RANDOM_IP_PREFIX = 'random';
/** The port of the lock socket on `<prefix>.0.1` (no pod uses .0.1; pods start at .0.2, nodes at .0.101). */
export const PREFIX_LOCK_PORT = 47601;

export interface IpPrefixLock {
  readonly prefix: string;
  /** Frees the prefix. Idempotent. */
  release(): Promise<void>;
}

export class IpPrefixInUseError extends Error {
  override name = 'IpPrefixInUseError';
}

/** Takes the prefix, or resolves undefined when another twin on this machine holds it. */
export function tryLockIpPrefix(prefix: string): Promise<IpPrefixLock | undefined> {
  if (!/^127\.\d{1,3}$/.test(prefix) || Number(prefix.split('.')[1]) > 255) {
    return Promise.reject(new Error(`ip prefix must look like 127.N (N 0-255), got ${prefix}`));
  }
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => sock.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(undefined) : reject(err)));
    server.listen({ host: `${prefix}.0.1`, port: PREFIX_LOCK_PORT, exclusive: true }, () => {
      server.unref();
      let released: Promise<void> | undefined;
      resolve({ prefix, release: () => (released ??= new Promise<void>((r) => server.close(() => r()))) });
    });
  });
}

/** Takes `prefix`, or throws naming the twin's lock when another twin holds it. */
export async function lockIpPrefix(prefix: string): Promise<IpPrefixLock> {
  const lock = await tryLockIpPrefix(prefix);
  if (!lock) {
    throw new IpPrefixInUseError(
      `ip prefix ${prefix} is in use by another twin on this machine (${prefix}.0.1:${PREFIX_LOCK_PORT} is bound): choose another with --ip-prefix 127.N, or --ip-prefix ${RANDOM_IP_PREFIX}`,
    );
  }
  return lock;
}

/** Takes a free prefix picked at random among 127.16-127.239, trying up to `tries` of them. */
export async function lockRandomIpPrefix(random: () => number = Math.random, tries = 100): Promise<IpPrefixLock> {
  for (let i = 0; i < tries; i++) {
    const lock = await tryLockIpPrefix(`127.${16 + Math.floor(random() * 224)}`);
    if (lock) return lock;
  }
  throw new IpPrefixInUseError(`no free ip prefix among 127.16-127.239 after ${tries} tries: too many twins run on this machine`);
}

/** The lock for a kubelet's `ipPrefix` option: `random` (a free one), else exactly that prefix (default 127.0). */
export function lockIpPrefixOption(ipPrefix: string | undefined): Promise<IpPrefixLock> {
  return ipPrefix === RANDOM_IP_PREFIX ? lockRandomIpPrefix() : lockIpPrefix(ipPrefix ?? '127.0');
}

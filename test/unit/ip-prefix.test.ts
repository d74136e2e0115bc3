import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { IpPrefixInUseError, PREFIX_LOCK_PORT, lockIpPrefix, lockRandomIpPrefix, tryLockIpPrefix } from '../../twin/runtime/ip-prefix.ts';

/*
 * One twin per pod address prefix on a machine (twin/runtime/ip-prefix.ts): two twins on one 127.N hand out the
 * same pod addresses. The lock is a socket bound on <prefix>.0.1, held across processes by the kernel.
 */
test('a prefix is held until released: a second lock is refused naming the holder, a random pick skips it', async () => {
  const first = await lockRandomIpPrefix();
  try {
    expect(first.prefix).toMatch(/^127\.\d{1,3}$/);
    expect(await tryLockIpPrefix(first.prefix)).toBeUndefined();
    const refused = await lockIpPrefix(first.prefix).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(IpPrefixInUseError);
    expect((refused as Error).message).toBe(
      `ip prefix ${first.prefix} is in use by another twin on this machine (${first.prefix}.0.1:${PREFIX_LOCK_PORT} is bound): choose another with --ip-prefix 127.N, or --ip-prefix random`,
    );
    // a random pick that first draws the held prefix moves on to another one
    const n = Number(first.prefix.split('.')[1]);
    const draws = [(n - 16 + 0.5) / 224, (((n - 16 + 1) % 224) + 0.5) / 224];
    const second = await lockRandomIpPrefix(() => draws.shift() ?? Math.random());
    try {
      expect(second.prefix).toBe(`127.${16 + ((n - 16 + 1) % 224)}`);
    } finally {
      await second.release();
    }
  } finally {
    await first.release();
    await first.release();
  }
  const again = await lockIpPrefix(first.prefix);
  await again.release();
  await expect(tryLockIpPrefix('10.0')).rejects.toThrow('ip prefix must look like 127.N (N 0-255), got 10.0');
  await expect(tryLockIpPrefix('127.300')).rejects.toThrow('got 127.300');
});

test('a lock dies with its process, even on SIGKILL', async () => {
  const free = await lockRandomIpPrefix();
  await free.release();
  const child = execa(
    process.execPath,
    [
      '-e',
      `require('node:net').createServer().listen({ host: '${free.prefix}.0.1', port: ${PREFIX_LOCK_PORT}, exclusive: true }, () => console.log('locked')); setInterval(() => {}, 1000);`,
    ],
    { reject: false },
  );
  await new Promise<void>((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve()));
  expect(await tryLockIpPrefix(free.prefix)).toBeUndefined();
  child.kill('SIGKILL');
  expect((await child).signal).toBe('SIGKILL');
  const after = await lockIpPrefix(free.prefix);
  await after.release();
});

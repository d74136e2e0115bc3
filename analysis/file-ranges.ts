/**
 * Reading a file in byte ranges that start at line starts, so that several threads can each count whole
 * lines of their own range: every line (its first byte to its `\n`) lies in exactly one range.
 */
import { readSync } from 'node:fs';

/** Bytes per read: large enough that syscalls cost little, small enough that the scans stay in cache. */
export const READ_BYTES = 1 << 20;

/** The first line start at or after `pos` in an open file of `size` bytes: `pos` itself after a `\n`, else just after the next `\n` (or `size`). */
export function lineStartAtOrAfter(fd: number, size: number, pos: number, probe: Buffer = Buffer.allocUnsafe(4096)): number {
  if (pos <= 0) return 0;
  if (pos >= size) return size;
  for (let at = pos - 1; at < size;) {
    const got = readSync(fd, probe, 0, probe.length, at);
    if (got <= 0) break;
    const nl = probe.subarray(0, got).indexOf(10);
    if (nl >= 0) return at + nl + 1;
    at += got;
  }
  return size;
}

/**
 * `n + 1` offsets `0 = b0 <= b1 <= ... <= bn = size` of an open file: range i is [b_i, b_{i+1}), and every
 * b_i is the first line start at or after i/n of the file. Ranges may be empty (a line longer than a range).
 */
export function lineAlignedBounds(fd: number, size: number, n: number): number[] {
  const probe = Buffer.allocUnsafe(4096);
  const bounds: number[] = [];
  for (let i = 0; i <= n; i++) bounds.push(lineStartAtOrAfter(fd, size, Math.floor((size * i) / n), probe));
  return bounds;
}

/**
 * Reads [start, end) of an open file in order, handing each piece to `onBytes` (the buffer is reused). `into`
 * is the buffer to read into (its length is the read size), or the read size for a new one: a caller that
 * reads many ranges passes one buffer (a new 1 MiB per range is memory until the next GC).
 */
export function readRange(
  fd: number,
  start: number,
  end: number,
  onBytes: (bytes: Buffer) => void,
  into: Buffer | number = READ_BYTES,
): void {
  if (end <= start) return;
  const buf = typeof into === 'number' ? Buffer.allocUnsafe(Math.min(into, end - start)) : into;
  for (let pos = start; pos < end;) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
    if (got <= 0) break; // the file shrank while it was read
    onBytes(got === buf.length ? buf : buf.subarray(0, got));
    pos += got;
  }
}

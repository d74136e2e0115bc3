/**
 * Whether a process id names a running process: signal 0 reaches it, or it exists but belongs to another user
 * (EPERM). A reused pid reads as alive: callers use this to clean up after dead owners, so the worst case is a
 * cleanup that waits for a later run. (common/build.mjs keeps its own copy: it is a script that runs alone.)
 */
export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

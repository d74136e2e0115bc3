import type { PodKillMode } from '../suites/schema.ts';
import { seededRandom } from '../k8s-rules/prng.ts';

/** How many of `n` matching pods a podKill mode acts on (Chaos Mesh semantics; fixedPercent rounds up). */
export function countForMode(mode: PodKillMode, n: number): number {
  if (n === 0) return 0;
  if (mode === 'one') return 1;
  if (mode === 'all') return n;
  if ('fixed' in mode) return Math.min(mode.fixed, n);
  return Math.min(n, Math.ceil((n * mode.fixedPercent) / 100));
}

/**
 * The pods a podKill mode picks, chosen with a seeded shuffle of the name-sorted candidates so the same
 * seed over the same pods picks the same ones. Returned sorted by name.
 */
export function choosePods<T extends { name: string }>(pods: readonly T[], mode: PodKillMode, seed: number): T[] {
  const sorted = [...pods].sort((a, b) => a.name.localeCompare(b.name));
  const k = countForMode(mode, sorted.length);
  const rnd = seededRandom(seed);
  for (let i = sorted.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [sorted[i], sorted[j]] = [sorted[j]!, sorted[i]!];
  }
  return sorted.slice(0, k).sort((a, b) => a.name.localeCompare(b.name));
}

export function describeMode(mode: PodKillMode): string {
  if (typeof mode === 'string') return mode;
  return 'fixed' in mode ? `fixed ${mode.fixed}` : `fixed ${mode.fixedPercent}%`;
}

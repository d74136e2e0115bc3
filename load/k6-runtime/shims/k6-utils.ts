import { randomBytes } from 'node:crypto';

/**
 * Stand-in for the k6-utils jslib (`https://jslib.k6.io/k6-utils/1.2.0` … `1.x`, grafana/k6-jslib-utils
 * v1.2.0–v1.4.0 src/utils.js): the helpers real scripts import, with the library's semantics. Versions
 * before 1.2.0 (findBetween returned '' on a miss) and the stage helpers (`getCurrentStageIndex`,
 * `tagWithCurrentStage*`, the async `check`) are refused before the run (bundle.ts).
 */

/** An integer in [min, max], both included. */
export function randomIntBetween(min: number, max: number): number {
  return Math.floor(Math.random() * (max - min + 1) + min);
}

export function randomItem<T>(items: T[]): T | undefined {
  return items[Math.floor(Math.random() * items.length)];
}

export function randomString(length: number, charset = 'abcdefghijklmnopqrstuvwxyz'): string {
  let out = '';
  for (let i = 0; i < length; i++) out += charset[Math.floor(Math.random() * charset.length)] ?? '';
  return out;
}

/** A version-4 UUID, lower-case hex; `secure` draws its bytes from the CSPRNG. */
export function uuidv4(secure = false): string {
  const b = secure ? randomBytes(16) : Buffer.from(Array.from({ length: 16 }, () => Math.floor(Math.random() * 256)));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The text between the first `left` and the next `right`; with `repeat`, every such piece in order (the
 * search resumes after each `right`). No match: null (v1.2.0 onwards).
 */
export function findBetween(content: string, left: string, right: string, repeat = false): string | string[] | null {
  const found: string[] = [];
  let from = 0;
  for (;;) {
    const l = content.indexOf(left, from);
    if (l < 0) break;
    const start = l + left.length;
    const end = content.indexOf(right, start);
    if (end < 0) break;
    if (!repeat) return content.slice(start, end);
    found.push(content.slice(start, end));
    from = end + right.length;
  }
  return found.length ? found : null;
}

/**
 * Stages whose targets follow a normal density over [-2σ, 2σ] scaled to `maxVus` at the peak: one ramp-in
 * stage of ceil(d/6) s, `n` stages of ceil(4d/(6n)) s, one ramp-out stage of ceil(d/6) s (targets of the
 * last two: the curve's value at 2σ and 0).
 */
export function normalDistributionStages(
  maxVus: number,
  durationSeconds: number,
  numberOfStages = 10,
): { duration: string; target: number }[] {
  const density = (x: number): number => Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  const curve = Array.from({ length: numberOfStages + 2 }, (_, i) => (i <= numberOfStages ? density(-2 + (4 * i) / numberOfStages) : 0));
  const peak = Math.max(...curve);
  const edge = Math.ceil(durationSeconds / 6);
  const inner = Math.ceil((4 * durationSeconds) / (6 * numberOfStages));
  return curve.map((c, k) => ({
    duration: `${k === 0 || k === numberOfStages + 1 ? edge : inner}s`,
    target: Math.round((c * maxVus) / peak),
  }));
}

export default { randomIntBetween, randomItem, randomString, uuidv4, findBetween, normalDistributionStages };

import { baseTags, emit, flushSamples, inInit, vu } from './state.ts';

type Checker<T> = ((value: T) => unknown) | unknown;

/**
 * k6's check (internal/js/modules/k6/k6.go, Check, k6 v2.2.0): each entry is a function called with the
 * value, or a plain value taken for its truthiness; one `checks` sample per entry (1 pass, 0 fail) tagged
 * `check`; a throwing function records a failure and the exception propagates.
 */
export function check<T>(value: T, sets: Record<string, Checker<T>>, tags?: Record<string, unknown>): boolean {
  if (inInit()) throw new Error('Using check in the init context is not supported');
  if (sets === undefined || sets === null) throw new Error('no checks provided to `check`');
  let all = true;
  const common = { ...baseTags(), ...stringTags(tags) };
  for (const [name, entry] of Object.entries(sets)) {
    if (name.includes('::')) throw new Error("group and check names may not contain '::'");
    let ok: boolean;
    let thrown: unknown;
    if (typeof entry === 'function') {
      try {
        ok = !!(entry as (v: T) => unknown)(value);
      } catch (err) {
        ok = false;
        thrown = err;
      }
    } else ok = !!entry;
    if (!ok) all = false;
    emit('checks', 'rate', ok ? 1 : 0, { ...common, check: name });
    if (thrown !== undefined) throw thrown;
  }
  return all;
}

export function stringTags(tags: unknown): Record<string, string> {
  if (tags === undefined || tags === null || typeof tags !== 'object') return {};
  return Object.fromEntries(Object.entries(tags as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/** k6's group: nested names joined with `::`, a `group_duration` sample per call. */
export function group<T>(name: string, fn: () => T): T {
  if (inInit()) throw new Error('Using group in the init context is not supported');
  if (name.includes('::')) throw new Error("group and check names may not contain '::'");
  const outer = vu.group;
  vu.group = `${outer}::${name}`;
  const t0 = performance.now();
  try {
    const result = fn();
    if (result instanceof Promise)
      throw new Error('group() with an async function is not supported by k6 (k6 docs: group, "async functions")');
    return result;
  } finally {
    emit('group_duration', 'trend', performance.now() - t0, baseTags(), true);
    vu.group = outer;
  }
}

export function sleep(seconds: number): void {
  const ms = Number(seconds) * 1000;
  flushSamples();
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function fail(message?: string): never {
  throw new Error(message ?? '');
}

let seed: number | undefined;
/** k6's randomSeed: makes Math.random repeatable (a small LCG here, not Go's generator). */
export function randomSeed(n: number): void {
  seed = Math.abs(Math.floor(Number(n))) % 2147483647 || 1;
  Math.random = () => {
    seed = ((seed ?? 1) * 16807) % 2147483647;
    return (seed - 1) / 2147483646;
  };
}

export default { check, group, sleep, fail, randomSeed };

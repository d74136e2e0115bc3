import { emit, vu } from './state.ts';

type Checker<T> = (value: T) => unknown;

export function check<T>(value: T, sets: Record<string, Checker<T>>, _tags?: object): boolean {
  let all = true;
  for (const fn of Object.values(sets)) {
    let ok = false;
    try {
      ok = !!fn(value);
    } catch {
      ok = false;
    }
    emit('checks', 'rate', ok ? 1 : 0);
    all &&= ok;
  }
  return all;
}

export function group<T>(name: string, fn: () => T): T {
  const outer = vu.group;
  vu.group = `${outer}::${name}`;
  try {
    return fn();
  } finally {
    vu.group = outer;
  }
}

export function sleep(seconds: number): void {
  if (seconds > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, seconds * 1000);
}

export function fail(message?: string): never {
  throw new Error(message ?? 'fail() called');
}

export default { check, group, sleep, fail };

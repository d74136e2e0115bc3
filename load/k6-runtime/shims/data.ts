import { inInit } from './state.ts';

/**
 * k6/data SharedArray: built once in the init context from a function returning an array; read-only
 * afterwards. Each VU worker builds its own copy (same content; k6 shares one copy between VUs).
 */
export class SharedArray {
  constructor(name: string, fn: () => unknown[]) {
    if (!inInit()) throw new Error('new SharedArray must be called in the init context');
    if (typeof name !== 'string' || name === '') throw new Error("empty name provided to SharedArray's constructor");
    if (typeof fn !== 'function') throw new Error("a function is expected as the second argument of SharedArray's constructor");
    const arr = fn();
    if (!Array.isArray(arr)) throw new Error('only arrays can be made into SharedArray');
    const frozen = JSON.parse(JSON.stringify(arr)) as unknown[];
    const deepFreeze = (v: unknown): unknown => {
      if (v !== null && typeof v === 'object') {
        Object.values(v).forEach(deepFreeze);
        Object.freeze(v);
      }
      return v;
    };
    deepFreeze(frozen);
    return frozen as unknown as SharedArray;
  }
}

export default { SharedArray };

import type { Sample } from '../protocol.ts';
import { emit } from './state.ts';

function metricClass(type: Sample['type']) {
  return class {
    constructor(readonly name: string, _isTime?: boolean) {
      if (!/^[\p{L}\p{N}\._!?/&#()<> %-]{1,128}$/u.test(name)) throw new Error(`k6 runtime: invalid metric name ${name}`);
    }
    add(value: number | boolean, tags?: Record<string, string>): void {
      const t = tags ? Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)])) : undefined;
      emit(this.name, type, typeof value === 'boolean' ? (value ? 1 : 0) : Number(value), t);
    }
  };
}

export const Counter = metricClass('counter');
export const Rate = metricClass('rate');
export const Trend = metricClass('trend');
export const Gauge = metricClass('gauge');
export default { Counter, Rate, Trend, Gauge };

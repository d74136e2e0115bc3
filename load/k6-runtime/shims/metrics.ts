import type { Sample } from '../protocol.ts';
import { stringTags } from './k6.ts';
import { baseTags, emit, inInit, vu } from './state.ts';

const NAME = /^[\p{L}\p{N}\._!?/&#()<> %-]{1,128}$/u;

/**
 * k6/metrics (internal/js/modules/k6/metrics/metrics.go, k6 v2.2.0): declared in the init context; `add`
 * takes a number or a boolean (true = 1); null, NaN or a non-number is dropped with a warning (thrown with
 * options.throw), never recorded.
 */
function metricClass(type: Sample['type']) {
  return class {
    readonly name: string;
    readonly isTime: boolean;
    constructor(name: string, isTime?: boolean) {
      if (!inInit()) throw new Error('metrics must be declared in the init context');
      if (!NAME.test(name)) throw new Error(`Invalid metric name: '${name}'`);
      this.name = name;
      this.isTime = type === 'trend' && !!isTime;
      const before = vu.declared[name];
      if (before && before.type !== type)
        throw new Error(`metric '${name}' already exists but with type ${before.type}, instead of ${type}`);
      vu.declared[name] = { type, time: this.isTime };
    }
    add(value: unknown, tags?: Record<string, unknown>): boolean {
      if (inInit()) throw new Error('Adding to metrics in the init context is not supported');
      let v: number;
      if (value === undefined) return warn(`no value was provided for metric '${this.name}', a number or a boolean value is expected`);
      if (value === null) return warn(`'null' is an invalid value for metric '${this.name}', a number or a boolean value is expected`);
      if (typeof value === 'boolean') v = value ? 1 : 0;
      else v = Number(value);
      if (Number.isNaN(v))
        return warn(`'${String(value)}' is an invalid value for metric '${this.name}', a number or a boolean value is expected`);
      emit(this.name, type, v, { ...baseTags(), ...stringTags(tags) }, this.isTime);
      return true;
    }
  };
}

function warn(message: string): false {
  if (vu.options['throw'] === true) throw new Error(message);
  console.warn(message);
  return false;
}

export const Counter = metricClass('counter');
export const Rate = metricClass('rate');
export const Trend = metricClass('trend');
export const Gauge = metricClass('gauge');
export default { Counter, Rate, Trend, Gauge };

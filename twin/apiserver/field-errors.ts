/**
 * Field errors as k8s.io/apimachinery/pkg/util/validation/field renders them (Kubernetes v1.32):
 * `<path>: <Type>[: <value>][: <detail>]`, and their `StatusCause` (reason `FieldValue<Type>`).
 */
import type { StatusCause } from './status.ts';

export type FieldErrorType = 'Required' | 'Invalid' | 'NotSupported' | 'TooMany' | 'TooLong' | 'TypeInvalid' | 'Forbidden' | 'Duplicate';

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with [i] for list items; undefined renders as `<nil>` (field.Invalid(nil, ...)). */
  field: string | undefined;
  value?: unknown;
  /** field.OmitValueType: no value in the message. */
  omitValue?: boolean;
  detail?: string;
}

const TYPE_TEXT: Record<FieldErrorType, string> = {
  Required: 'Required value',
  Invalid: 'Invalid value',
  NotSupported: 'Unsupported value',
  TooMany: 'Too many',
  TooLong: 'Too long',
  TypeInvalid: 'Invalid value',
  Forbidden: 'Forbidden',
  Duplicate: 'Duplicate value',
};

/** Go's rendering of a bad value: strings quoted (%q), numbers and booleans plain, null as "null". */
function goValue(v: unknown): string {
  if (v === null || v === undefined) return '"null"';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** field.Error.ErrorBody(). */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  const noValue = e.type === 'Required' || e.type === 'Forbidden' || e.type === 'TooLong' || e.omitValue;
  if (!noValue) s += `: ${goValue(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

export function toCause(e: FieldError): StatusCause {
  return { reason: `FieldValue${e.type}`, message: errorBody(e), field: e.field ?? '<nil>' };
}

export const fieldError = {
  required: (field: string, detail = ''): FieldError => ({ type: 'Required', field, ...(detail ? { detail } : {}) }),
  invalid: (field: string | undefined, value: unknown, detail: string): FieldError => ({ type: 'Invalid', field, value, detail }),
  notSupported: (field: string, value: unknown, supported: string[]): FieldError => ({
    type: 'NotSupported',
    field,
    value,
    detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
  tooMany: (field: string, actual: number, max: number): FieldError => ({
    type: 'TooMany',
    field,
    value: actual,
    detail: `must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
  }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({
    type: 'TooLong',
    field,
    value,
    detail: `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}`,
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({ type: 'TypeInvalid', field, value, detail }),
};

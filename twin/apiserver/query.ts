/**
 * Query parameters read the way the real API server decodes them into ListOptions, PodLogOptions,
 * CreateOptions, PatchOptions and DeleteOptions (k8s.io/apimachinery v0.32 pkg/runtime/conversion.go
 * and pkg/apis/meta/v1/conversion.go; validation in pkg/apis/meta/internalversion/validation and
 * pkg/apis/meta/v1/validation/validation.go).
 */
import { errorBody, fieldError } from './field-errors.ts';
import type { FieldError } from './field-errors.ts';
import type { Obj } from './selectors.ts';
import { ApiError, errors } from './status.ts';

/**
 * Convert_Slice_string_To_bool: absent, `0` or `false` (any case) is false; any other value, even an
 * empty one (`?watch`), `True`, `t` or `yes`, is true. (Not strconv.ParseBool: `watch=yes` is a watch.)
 */
export function queryBool(q: URLSearchParams, name: string): boolean {
  const all = q.getAll(name);
  if (all.length === 0) return false;
  const v = all[0]!;
  return !(v === '0' || v.toLowerCase() === 'false');
}

/** Convert_Slice_string_To_int64 (strconv.ParseInt base 10): anything else is a 400 with Go's words. */
export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const all = q.getAll(name);
  if (all.length === 0 || all[0] === '') return undefined; // simplification: an empty value is taken as absent
  const v = all[0]!;
  if (!/^[+-]?[0-9]+$/.test(v)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return n;
}

/** `errors.NewInvalid(metav1 GroupKind{Kind}, "", errs)`, as the handlers answer bad options. */
function invalidOptions(kind: string, errs: FieldError[]): ApiError {
  return errors.invalid(
    kind,
    'meta.k8s.io',
    '',
    errs.map((e) => ({ reason: `FieldValue${e.type}`, message: errorBody(e), field: e.field ?? '' })),
  );
}

function dryRunErrors(q: URLSearchParams): FieldError[] {
  const values = q.getAll('dryRun');
  if (values.every((v) => v === 'All')) return [];
  // ValidateDryRun: the bad value is the whole list, printed with %#v.
  const list = `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
  return [{ type: 'NotSupported', field: 'dryRun', omitValue: true, detail: `${list}: supported values: "All"` }];
}

function fieldManagerErrors(q: URLSearchParams): FieldError[] {
  const fm = q.get('fieldManager');
  if (fm === null) return [];
  if (fm.length > 128) return [fieldError.tooLong('fieldManager', fm, 128)];
  if ([...fm].some((c) => c < ' ' || c > '~')) return [fieldError.invalid('fieldManager', fm, 'must only contain printable characters')];
  return [];
}

export interface WriteQuery {
  dryRun: boolean;
  fieldManager?: string;
}

/** CreateOptions / UpdateOptions: dryRun (only `All`), fieldManager. */
export function writeQuery(q: URLSearchParams, kind: 'CreateOptions' | 'UpdateOptions'): WriteQuery {
  const errs = [...fieldManagerErrors(q), ...dryRunErrors(q)];
  if (errs.length) throw invalidOptions(kind, errs);
  const fm = q.get('fieldManager');
  return { dryRun: q.getAll('dryRun').length > 0, ...(fm ? { fieldManager: fm } : {}) };
}

/** PatchOptions: `force` only on apply, `fieldManager` required on apply. */
export function patchQuery(q: URLSearchParams, apply: boolean): WriteQuery & { force: boolean } {
  const errs: FieldError[] = [];
  if (!apply && q.has('force')) errs.push({ type: 'Forbidden', field: 'force', detail: 'may not be specified for non-apply patch' });
  if (apply && !q.get('fieldManager')) errs.push(fieldError.required('fieldManager', 'is required for apply patch'));
  errs.push(...fieldManagerErrors(q), ...dryRunErrors(q));
  if (errs.length) throw invalidOptions('PatchOptions', errs);
  const fm = q.get('fieldManager');
  return { dryRun: q.getAll('dryRun').length > 0, force: queryBool(q, 'force'), ...(fm ? { fieldManager: fm } : {}) };
}

const POLICIES = ['Foreground', 'Background', 'Orphan'] as const;
export type PropagationPolicy = (typeof POLICIES)[number];

/** DeleteOptions.propagationPolicy: one of the three, else 422 Unsupported value. */
export function checkPropagationPolicy(policy: unknown): PropagationPolicy | undefined {
  if (policy === undefined || policy === null || policy === '') return undefined;
  if (!POLICIES.includes(policy as PropagationPolicy))
    throw invalidOptions('DeleteOptions', [fieldError.notSupported('propagationPolicy', policy, [...POLICIES])]);
  return policy as PropagationPolicy;
}

export function deleteDryRun(q: URLSearchParams): boolean {
  const errs = dryRunErrors(q);
  if (errs.length) throw invalidOptions('DeleteOptions', errs);
  return q.getAll('dryRun').length > 0;
}

/** PodLogOptions validation (pkg/apis/core/validation ValidatePodLogOptions): 422 PodLogOptions. */
export function checkLogOptions(
  pod: string,
  o: { tailLines?: number; limitBytes?: number; sinceSeconds?: number; sinceTime?: string },
): void {
  const errs: FieldError[] = [];
  if (o.tailLines !== undefined && o.tailLines < 0)
    errs.push(fieldError.invalid('tailLines', o.tailLines, 'must be greater than or equal to 0'));
  if (o.limitBytes !== undefined && o.limitBytes < 1) errs.push(fieldError.invalid('limitBytes', o.limitBytes, 'must be greater than 0'));
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined)
    errs.push({ type: 'Forbidden', field: '', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  if (o.sinceSeconds !== undefined && o.sinceSeconds < 1)
    errs.push(fieldError.invalid('sinceSeconds', o.sinceSeconds, 'must be greater than 0'));
  if (errs.length)
    throw errors.invalid(
      'PodLogOptions',
      '',
      pod,
      errs.map((e) => ({ reason: `FieldValue${e.type}`, message: errorBody(e), field: e.field ?? '' })),
    );
}

/**
 * `limit` / `continue` (storage/etcd3 list paging): items in key order (`namespace/name`), at most
 * `limit`, and a continue token `base64({"v":"meta.k8s.io/v1","rv":RV,"start":"<last key>\u0000"})` when
 * more remain, with `remainingItemCount`. Simplification: a continued list reads the current objects,
 * not a snapshot at the first page's resourceVersion.
 */
export function paginate(items: Obj[], q: URLSearchParams, rv: string): { items: Obj[]; continue?: string; remainingItemCount?: number } {
  const limit = queryInt(q, 'limit');
  const token = q.get('continue');
  const key = (o: Obj) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
  let sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)));
  if (token) {
    let start: string;
    try {
      const c = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { v?: string; start?: string };
      if (c.v !== 'meta.k8s.io/v1' || typeof c.start !== 'string') throw new Error('unknown version');
      start = c.start.replace(/\u0000$/, '');
    } catch (e) {
      throw errors.badRequest(`continue key is not valid: ${e instanceof Error ? e.message : String(e)}`);
    }
    sorted = sorted.filter((o) => key(o).localeCompare(start) > 0);
  }
  if (limit === undefined || limit <= 0 || sorted.length <= limit) return { items: sorted };
  const page = sorted.slice(0, limit);
  const next = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: `${key(page[page.length - 1]!)}\u0000` })).toString(
    'base64',
  );
  return { items: page, continue: next, remainingItemCount: sorted.length - limit };
}

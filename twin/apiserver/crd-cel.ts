/**
 * `x-kubernetes-validations` CEL rules of a CRD schema, evaluated with @bufbuild/cel the way
 * apiextensions-apiserver v1.32 pkg/apiserver/schema/cel/validation.go does:
 * - each rule runs with `self` bound to the value at its schema node (objects as maps, `integer` as int),
 *   and `oldSelf` to the stored value on update; transition rules (those naming `oldSelf`) only run
 *   when an old value exists (optionalOldSelf is not supported: such rules are skipped on create);
 * - a false result is `field.Invalid(path, <schema type>, message)`: for objects and arrays the value is
 *   the type name, so `spec.endpointPickerRef: Invalid value: "object": <message>` (v1.32; v1.35 omits
 *   it, kubernetes/kubernetes#133832); `message` (or `messageExpression`, or `failed rule: <rule>`),
 *   `fieldPath` and `reason` are honoured;
 * - an evaluation error is `Invalid value: "<type>": <error> evaluating rule: <rule>`;
 * - ratcheting: on update a rule without `oldSelf` whose value did not change adds no error.
 * The Kubernetes CEL libraries (isSorted, url, quantity, ip, cidr, format) are not available: a rule
 * calling them fails with an evaluation error naming the rule, never passes silently.
 */
import { celEnv, isCelError, parse, plan, strings } from '#cel';
import type { CelInput } from '@bufbuild/cel';
import { isDeepStrictEqual } from 'node:util';
import { fieldError } from './field-errors.ts';
import type { FieldError, FieldErrorType } from './field-errors.ts';

interface Rule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: string;
}

type Program = (ctx: Record<string, CelInput>) => unknown;

const env = celEnv({ funcs: strings });
const programs = new Map<string, Program | Error>();

function compile(expr: string): Program | Error {
  let p = programs.get(expr);
  if (!p) {
    try {
      p = plan(env, parse(expr)) as unknown as Program;
    } catch (e) {
      p = e instanceof Error ? e : new Error(String(e));
    }
    programs.set(expr, p);
  }
  return p;
}

export type Schema = Record<string, any>;

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The schema of a map's values (additionalProperties), if it is a schema. */
export function additionalSchema(s: Schema): Schema | undefined {
  return isObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
}

/** JSON value -> CEL input, typed by the schema (UnstructuredToVal): integers are CEL ints, objects maps. */
export function toCel(s: Schema | undefined, v: unknown): CelInput {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return (s?.type === 'integer' || s?.['x-kubernetes-int-or-string']) && Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map((x) => toCel(s?.items as Schema | undefined, x));
  if (isObject(v)) {
    const m = new Map<string, CelInput>();
    const props = (s?.properties ?? {}) as Record<string, Schema>;
    const ap = s ? additionalSchema(s) : undefined;
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) m.set(k, toCel(props[k] ?? ap, x));
    return m;
  }
  return v as CelInput;
}

/** cel-go's words for the common runtime errors. */
function errorText(e: Error): string {
  const m = /^field not found: (.*)$/.exec(e.message);
  return m ? `no such key: ${m[1]}` : e.message;
}

function schemaType(s: Schema, v: unknown): string {
  if (s.type) return String(s.type);
  return Array.isArray(v) ? 'array' : isObject(v) ? 'object' : typeof v;
}

function ruleError(reason: string | undefined, path: string, value: unknown, detail: string, omitValue: boolean): FieldError {
  const type: FieldErrorType =
    reason === 'FieldValueForbidden'
      ? 'Forbidden'
      : reason === 'FieldValueRequired'
        ? 'Required'
        : reason === 'FieldValueDuplicate'
          ? 'Duplicate'
          : 'Invalid';
  return { type, field: path, value, detail, ...(omitValue ? { omitValue } : {}) };
}

function evalRules(s: Schema, v: unknown, old: unknown, hasOld: boolean, path: string, unchanged: boolean, out: FieldError[]): void {
  const rules = (s['x-kubernetes-validations'] ?? []) as Rule[];
  if (!rules.length) return;
  const type = schemaType(s, v);
  const shown = type === 'object' || type === 'array' ? type : v;
  const self = toCel(s, v);
  const oldSelf = hasOld ? toCel(s, old) : undefined;
  for (const r of rules) {
    const usesOld = /\boldSelf\b/.test(r.rule);
    if (usesOld && !hasOld) continue;
    const ruleText = (r.message ?? '').trim() || r.rule.trim();
    const prog = compile(r.rule);
    if (prog instanceof Error) {
      out.push(fieldError.invalid(path, shown, `rule compile error: ${prog.message.split('\n')[0]}`));
      continue;
    }
    const ctx: Record<string, CelInput> = usesOld ? { self, oldSelf: oldSelf ?? null } : { self };
    const result = prog(ctx);
    if (isCelError(result)) {
      out.push(fieldError.invalid(path, shown, `${errorText(result)} evaluating rule: ${ruleText}`));
      continue;
    }
    if (result === true) continue;
    if (!usesOld && unchanged) continue; // ratcheted (a warning on the real server)
    let detail = (r.message ?? '').trim() ? r.message!.trim() : `failed rule: ${ruleText}`;
    if (r.messageExpression) {
      const mp = compile(r.messageExpression);
      const msg = mp instanceof Error ? undefined : mp(ctx);
      if (typeof msg === 'string' && msg.trim() && !/\n/.test(msg.trim())) detail = msg.trim();
    }
    const at = r.fieldPath ? `${path}${r.fieldPath.startsWith('.') ? '' : '.'}${r.fieldPath}`.replace(/^\./, '') : path;
    out.push(ruleError(r.reason, at, shown, detail, false));
  }
}

function walk(s: Schema, v: unknown, old: unknown, hasOld: boolean, path: string, unchanged: boolean, out: FieldError[]): void {
  if (v === null || v === undefined) return;
  evalRules(s, v, old, hasOld, path, unchanged, out);
  if (Array.isArray(v) && s.items) {
    // Only map-type lists correlate items with old ones; atomic and set lists do not.
    v.forEach((item, i) => walk(s.items as Schema, item, undefined, false, `${path}[${i}]`, unchanged, out));
  } else if (isObject(v)) {
    const props = (s.properties ?? {}) as Record<string, Schema>;
    const ap = additionalSchema(s);
    const oldObj = hasOld && isObject(old) ? old : undefined;
    for (const [k, cv] of Object.entries(v)) {
      const ps = props[k] ?? ap;
      if (!ps) continue;
      const has = !!oldObj && oldObj[k] !== undefined;
      const childPath = props[k] ? (path ? `${path}.${k}` : k) : `${path}[${k}]`;
      walk(ps, cv, oldObj?.[k], has, childPath, has && isDeepStrictEqual(cv, oldObj?.[k]), out);
    }
  }
}

/** Every failing rule of the schema against `obj` (and `old` on update), in schema walk order. */
export function validateCelRules(schema: Schema, obj: unknown, old: unknown): FieldError[] {
  const out: FieldError[] = [];
  walk(schema, obj, old, old !== undefined, '', false, out);
  return out;
}

/**
 * A custom resource against its CRD's structural schema, as apiextensions-apiserver v1.32 does it:
 * defaulting (`default`), OpenAPI value validation (kube-openapi pkg/validation/validate, converted by
 * apiextensions-apiserver pkg/apiserver/validation/validation.go kubeOpenAPIResultToFieldErrors) and, when
 * that left no blocking error, the `x-kubernetes-validations` CEL rules (crd-cel.ts), following
 * pkg/registry/customresource/strategy.go (Validate / ValidateUpdate / hasBlockingErr).
 *
 * Validation ratcheting (CRDValidationRatcheting, on by default since v1.30): on update, an error on a
 * value that equals its old value is dropped. Simplification: values are correlated through object
 * properties only (list items take their list's answer), as for atomic lists.
 * Not done: pruning of unknown fields, `format`, `uniqueItems`, `multipleOf`, `allOf/anyOf/oneOf/not`,
 * list-type map/set uniqueness.
 */
import { isDeepStrictEqual } from 'node:util';
import { additionalSchema, isObject, validateCelRules } from './crd-cel.ts';
import type { Schema } from './crd-cel.ts';
import { fieldError } from './field-errors.ts';
import type { FieldError } from './field-errors.ts';
import type { Obj } from './selectors.ts';

export type { Schema };

/** Fills `default`s of absent properties, depth first (structuraldefaulting.Default). Mutates `value`. */
export function applySchemaDefaults(s: Schema | undefined, value: unknown): void {
  if (!s) return;
  if (isObject(value)) {
    for (const [k, ps] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
      if (value[k] === undefined && ps.default !== undefined) value[k] = structuredClone(ps.default);
      applySchemaDefaults(ps, value[k]);
    }
    const ap = additionalSchema(s);
    if (ap) for (const k of Object.keys(value)) if (!(s.properties ?? {})[k]) applySchemaDefaults(ap, value[k]);
  } else if (Array.isArray(value) && s.items) {
    for (const item of value) applySchemaDefaults(s.items as Schema, item);
  }
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const got = jsonType(v);
  if (want === 'number') return got === 'number' || got === 'integer';
  return got === want;
}

const child = (path: string, k: string) => (path ? `${path}.${k}` : k);

interface Walk {
  path: string;
  /** On update: this value equals its old counterpart, so its errors are ratcheted away. */
  unchanged: boolean;
}

function validateValue(s: Schema, v: unknown, old: unknown, w: Walk, out: FieldError[]): void {
  const start = out.length;
  const { path } = w;
  if (v === null && s.nullable) return;
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  if (s.type && !intOrString && !typeMatches(String(s.type), v)) {
    const got = jsonType(v);
    out.push(fieldError.typeInvalid(path, got, `${path} in body must be of type ${s.type}: ${JSON.stringify(got)}`));
  } else {
    if (Array.isArray(s.enum) && !s.enum.some((e) => isDeepStrictEqual(e, v)))
      out.push(
        fieldError.notSupported(
          path,
          v,
          (s.enum as unknown[]).map((e) => (typeof e === 'string' ? e : JSON.stringify(e))),
        ),
      );
    if (typeof v === 'number') {
      if (typeof s.maximum === 'number' && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum))
        out.push(
          fieldError.invalid(path, v, `${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`),
        );
      if (typeof s.minimum === 'number' && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum))
        out.push(
          fieldError.invalid(path, v, `${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`),
        );
    }
    if (typeof v === 'string') {
      const len = [...v].length;
      if (typeof s.maxLength === 'number' && len > s.maxLength) out.push(fieldError.tooLong(path, v, s.maxLength));
      if (typeof s.minLength === 'number' && len < s.minLength)
        out.push(fieldError.invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`));
      if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(v))
        out.push(fieldError.invalid(path, v, `${path} in body should match '${s.pattern}'`));
    }
    if (Array.isArray(v)) {
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) out.push(fieldError.tooMany(path, v.length, s.maxItems));
      if (typeof s.minItems === 'number' && v.length < s.minItems)
        out.push(fieldError.invalid(path, v.length, `${path} in body should have at least ${s.minItems} items`));
      if (s.items)
        v.forEach((item, i) => validateValue(s.items as Schema, item, undefined, { path: `${path}[${i}]`, unchanged: w.unchanged }, out));
    }
    if (isObject(v)) {
      const n = Object.keys(v).length;
      if (typeof s.maxProperties === 'number' && n > s.maxProperties) out.push(fieldError.tooMany(path, n, s.maxProperties));
      if (typeof s.minProperties === 'number' && n < s.minProperties)
        out.push(fieldError.invalid(path, n, `${path} in body should have at least ${s.minProperties} properties`));
      for (const r of (s.required ?? []) as string[])
        if (v[r] === undefined || v[r] === null) out.push(fieldError.required(child(path, r)));
      const props = (s.properties ?? {}) as Record<string, Schema>;
      const ap = additionalSchema(s);
      const oldObj = isObject(old) ? old : undefined;
      for (const [k, cv] of Object.entries(v)) {
        const ps = props[k] ?? ap;
        if (!ps || cv === undefined) continue;
        const ov = oldObj?.[k];
        validateValue(ps, cv, ov, { path: child(path, k), unchanged: ov !== undefined && isDeepStrictEqual(cv, ov) }, out);
      }
    }
  }
  if (w.unchanged) out.splice(start);
}

/** kube-openapi errors plus, unless one of them blocks, the CEL rules. `old` is the stored object on update. */
export function validateCustomResource(schema: Schema, obj: Obj, old: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  // The root's metadata is validated by ObjectMeta rules (validate.ts), not by the schema.
  const { metadata: _m, ...body } = obj;
  const { metadata: _om, ...oldBody } = old ?? {};
  validateValue(
    { ...schema, properties: { ...(schema.properties ?? {}), metadata: {} } },
    body,
    old ? oldBody : undefined,
    { path: '', unchanged: false },
    errs,
  );
  const blocking = errs.some((e) => ['NotSupported', 'Required', 'TooLong', 'TooMany', 'TypeInvalid'].includes(e.type));
  if (blocking) {
    errs.push(
      fieldError.invalid(
        undefined,
        null,
        'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      ),
    );
    return errs;
  }
  errs.push(...validateCelRules(schema, obj, old));
  return errs;
}

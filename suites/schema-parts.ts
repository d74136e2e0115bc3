/**
 * The building blocks of the suite schema, shared by the suite schema (`schema.ts`), the criteria
 * (`criteria/*.ts`: each criterion's settings schema) and the faults (`chaos/faults/schemas.ts`). This module
 * imports no criterion and no fault, so those can build on it while `schema.ts` composes them.
 */
import { z } from '#zod';
import { DURATION_HINT, DURATION_PATTERN, tryParseDuration } from './durations.ts';
import { labelSelectorProblem } from '../k8s-rules/labels.ts';

/** A duration (`500ms`, `35s`, `2m`, `1h30m`), parsed to milliseconds. */
export function duration(opts: { max?: number; maxText?: string; min?: number } = {}) {
  return z
    .string({ error: DURATION_HINT })
    .regex(new RegExp(DURATION_PATTERN), { error: DURATION_HINT })
    .transform((text, ctx) => {
      const ms = tryParseDuration(text);
      if (ms === undefined) {
        ctx.issues.push({ code: 'custom', message: DURATION_HINT, input: text });
        return z.NEVER;
      }
      if (opts.max !== undefined && ms > opts.max) {
        ctx.issues.push({ code: 'custom', message: `must be at most ${opts.maxText ?? `${opts.max}ms`}`, input: text });
        return z.NEVER;
      }
      if (opts.min !== undefined && ms < opts.min) {
        ctx.issues.push({ code: 'custom', message: `must be at least ${opts.min}ms`, input: text });
        return z.NEVER;
      }
      return ms;
    });
}

export const HOUR_MS = 3_600_000;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const dnsName = () =>
  z.string().max(63).regex(DNS1123_LABEL, {
    error: `must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit`,
  });

export const namespace = dnsName().describe('Kubernetes namespace.');

export const labelSelector = z
  .string()
  .superRefine((text, ctx) => {
    const problem = labelSelectorProblem(text);
    if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (a label selector looks like app=vllm-p2p-test,role=decode)` });
  })
  .describe('Label selector in kubectl -l form, e.g. `app=vllm-p2p-test,role=decode` or `role in (prefill,decode)`.');

const OBJECT_REF = /^[a-z][a-z0-9]*(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const objectRef = z
  .string()
  .regex(OBJECT_REF, { error: 'expected kind/name, e.g. schedulerinstall/llm-sched-install or deploy/gaie-inference-scheduling-epp' })
  .describe('An object as `kind/name` (kubectl style): `deploy/gaie-inference-scheduling-epp`, `schedulerinstall/llm-sched-install`.');

const WORKLOAD_REF =
  /^(deploy|deployment|deployments|sts|statefulset|statefulsets|ds|daemonset|daemonsets)\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const workloadRef = z
  .string()
  .regex(WORKLOAD_REF, { error: 'expected deploy/NAME (or statefulset/NAME, daemonset/NAME)' })
  .describe('A workload with a rollout: `deploy/NAME`, `statefulset/NAME` or `daemonset/NAME`.');

/** A path relative to the suite file's directory; the loader checks it exists and resolves it. */
export const suitePath = (what: string) => z.string().min(1).describe(`${what}, relative to the directory of the suite file.`);

export const ratio = (what: string) => z.number().min(0).max(1).describe(`${what} (0..1).`);
export const positiveInt = z.int().min(1);

const TEMPLATE_VARS = new Set(['i', 'variant']);
/** Checks that `{{...}}` placeholders in every string of a JSON value are ones the load engines fill in. */
export function checkTemplates(value: unknown, ctx: z.RefinementCtx, path: (string | number)[] = []): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)) {
      if (!TEMPLATE_VARS.has(m[1]!)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `unknown placeholder "{{${m[1]}}}": use {{i}} (request number, from 1) or {{variant}}`,
        });
      }
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => checkTemplates(v, ctx, [...path, i]));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkTemplates(v, ctx, [...path, k]);
  }
}

export const jsonValue = z.json().describe('Any JSON value.');

type OneKey<S extends Record<string, z.ZodType>> = { [K in keyof S]: { [P in K]: z.output<S[K]> } }[keyof S];

/**
 * An object with exactly one of the given keys, e.g. `{ patch: {...} }`. Typed as the union of
 * one-key objects; in JSON Schema an object with optional properties and min/maxProperties 1.
 */
export function oneKey<S extends Record<string, z.ZodType>>(what: string, shape: S) {
  const optionalShape = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof S]: z.ZodOptional<S[K]>;
  };
  const keys = Object.keys(shape);
  return z
    .strictObject(optionalShape)
    .superRefine((obj, ctx) => {
      const present = keys.filter((k) => (obj as Record<string, unknown>)[k] !== undefined);
      if (present.length === 0) {
        ctx.addIssue({ code: 'custom', message: `expected one of ${keys.join(', ')} in each ${what}` });
      } else if (present.length > 1) {
        ctx.addIssue({
          code: 'custom',
          message: `each ${what} takes exactly one of ${keys.join(', ')}, found ${present.join(' and ')}: split it into separate items`,
        });
      }
    })
    .transform((obj) => obj as unknown as OneKey<S>)
    .meta({ minProperties: 1, maxProperties: 1 });
}

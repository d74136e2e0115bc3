/**
 * The suite format (`apiVersion: pd-harness.dev/v1`, `kind: Suite`) as a zod schema.
 *
 * Every object is strict: an unknown key is an error. Durations are written as text (`35s`) and come
 * out of parsing as milliseconds. Lists of "one-key objects" (setup steps, faults, criteria, ...) are
 * objects whose keys are all optional with exactly one present: that gives precise error messages and
 * lets an editor complete the keys from the JSON Schema.
 */
import { z } from '#zod';
import {
  HOUR_MS,
  checkTemplates,
  dnsName,
  duration,
  jsonValue,
  labelSelector,
  namespace,
  objectRef,
  oneKey,
  suitePath,
  workloadRef,
} from './schema-parts.ts';
import { formatTimeout, isTimeoutName, MAX_TIMEOUT_MS, TIMEOUT_NAMES, type TimeoutConfig } from '../core/timeouts.ts';

import { FAULT_NAMES, faultSchemas, type FaultSchemas } from '../chaos/faults/schemas.ts';
import { criterionSchemas } from '../criteria/registry.ts';
import { CONNECTORS } from '../criteria/kv-transfer.ts';
import { RecoverySchema as RecoveryCriterionSchema } from '../criteria/recovery.ts';

export { duration, oneKey } from './schema-parts.ts';

// ---------------------------------------------------------------------------------------------
// metadata and target

export const MetadataSchema = z
  .strictObject({
    name: dnsName().describe('Suite name: a DNS-1123 label (lower case, digits, -), at most 63 characters.'),
    tags: z.array(z.string().min(1)).default([]).describe('Tags select suites into Playwright projects: conformance, chaos, repro.'),
    description: z.string().optional().describe('What the suite checks, in a sentence or two.'),
    severity: z.enum(['blocker', 'critical', 'normal', 'minor', 'trivial']).optional().describe('Allure severity of a failure.'),
    owner: z.string().optional().describe('Who to ask about this suite.'),
  })
  .describe('Name, tags and description of the suite.');

export const TargetSchema = z
  .strictObject({
    namespaces: z
      .array(namespace)
      .min(1)
      .describe('The guard: the only namespaces this suite may touch (setup, steady state and faults are checked against it).'),
    selectors: z
      .array(labelSelector)
      .optional()
      .describe('Label selectors of the pods faults may act on; a fault on a pod that matches none of them is refused.'),
    gateway: z
      .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
      .optional()
      .describe("Gateway URL, overriding the one the target provides (the twin's, PD_HARNESS_GATEWAY, or a port-forward)."),
    clusterScoped: z
      .array(
        z.string().regex(/^[A-Za-z][A-Za-z0-9]*\/[a-z0-9]([-a-z0-9.:]*[a-z0-9])?$/, {
          error: 'expected Kind/name, e.g. CustomResourceDefinition/inferencepools.inference.networking.k8s.io',
        }),
      )
      .default([])
      .describe(
        'The cluster-scoped objects the suite may create, patch or delete, as Kind/name (e.g. the CRDs it installs). Any other cluster-scoped object is refused; a Namespace named in `namespaces` needs no entry.',
      ),
    loadNamespace: namespace
      .optional()
      .describe('Where engine k6-operator creates its ConfigMap and TestRun; one of `namespaces` (default: the first).'),
  })
  .describe('Where the suite may act.');

// ---------------------------------------------------------------------------------------------
// setup

const JsonPatchOpSchema = z
  .strictObject({
    op: z.enum(['add', 'remove', 'replace', 'move', 'copy', 'test']),
    path: z.string().regex(/^(\/.*)?$/, { error: 'expected a JSON pointer such as /spec/epp/configProfile' }),
    value: jsonValue.optional(),
    from: z
      .string()
      .regex(/^(\/.*)?$/, { error: 'expected a JSON pointer' })
      .optional(),
  })
  .superRefine((op, ctx) => {
    if (['add', 'replace', 'test'].includes(op.op) && op.value === undefined) {
      ctx.addIssue({ code: 'custom', message: `a JSON patch "${op.op}" needs a value` });
    }
    if (['move', 'copy'].includes(op.op) && op.from === undefined) {
      ctx.addIssue({ code: 'custom', message: `a JSON patch "${op.op}" needs from` });
    }
  })
  .describe('One RFC 6902 JSON patch operation.');

export const PatchStepSchema = z
  .strictObject({
    ref: objectRef,
    namespace,
    merge: z.record(z.string(), jsonValue).optional().describe('JSON merge patch (RFC 7386), like kubectl patch --type=merge.'),
    json: z.array(JsonPatchOpSchema).min(1).optional().describe('JSON patch operations (RFC 6902), like kubectl patch --type=json.'),
  })
  .superRefine((p, ctx) => {
    if ((p.merge === undefined) === (p.json === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'a patch takes exactly one of merge or json' });
    }
  })
  .describe('Patch an object; the harness restores it after the run.');

export const ApplyStepSchema = z
  .strictObject({ file: suitePath('Manifest file or directory') })
  .describe('Server-side apply of a manifest file.');

export const RolloutRestartStepSchema = z
  .strictObject({
    ref: workloadRef,
    namespace,
    timeout: duration({ max: HOUR_MS, maxText: '1h' })
      .prefault('180s')
      .describe('How long to wait for the rollout to complete (default 180s, at most 1h).'),
  })
  .describe('kubectl rollout restart, then wait for kubectl rollout status to succeed.');

const PodsReadySchema = z
  .strictObject({
    namespace,
    selector: labelSelector.optional(),
  })
  .describe('All pods matching the selector in the namespace are Ready (and there is at least one).');

export const WaitForSchema = oneKey('wait condition', {
  podsReady: PodsReadySchema,
  rollout: z.strictObject({ ref: workloadRef, namespace }).describe("The workload's rollout is complete."),
  condition: z
    .strictObject({
      ref: objectRef,
      namespace,
      type: z.string().min(1).describe('Condition type, e.g. Accepted, Available.'),
      status: z.enum(['True', 'False', 'Unknown']).default('True'),
    })
    .describe('An object has a status condition.'),
}).describe('What to wait for: one of podsReady, rollout, condition.');

export const WaitStepSchema = z
  .strictObject({
    for: WaitForSchema,
    timeout: duration({ max: HOUR_MS, maxText: '1h' }).prefault('120s').describe('Give up after this long (default 120s).'),
  })
  .describe('Wait for a condition, failing with what was seen when the timeout passes.');

export const SetupStepSchema = oneKey('setup step', {
  patch: PatchStepSchema,
  apply: ApplyStepSchema,
  rolloutRestart: RolloutRestartStepSchema,
  wait: WaitStepSchema,
}).describe('One setup step: patch, apply, rolloutRestart or wait.');

// ---------------------------------------------------------------------------------------------
// steady state

const HeadersSchema = z.record(z.string(), z.string()).describe('HTTP headers; values may contain {{i}} and {{variant}}.');

export const RequestTemplateSchema = z
  .strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']).default('POST'),
    path: z
      .string()
      .regex(/^\//, { error: 'a request path starts with /' })
      .default('/v1/chat/completions')
      .describe('Path on the gateway.'),
    headers: HeadersSchema.default({}),
    body: jsonValue.optional().describe('JSON body; strings may contain {{i}} (the request number, from 1) and {{variant}}.'),
  })
  .superRefine((r, ctx) => {
    checkTemplates(r.headers, ctx, ['headers']);
    checkTemplates(r.body, ctx, ['body']);
    checkTemplates(r.path, ctx, ['path']);
  })
  .describe('The request sent through the gateway.');

export const ProbeSchema = z
  .strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']).optional(),
    path: z.string().regex(/^\//, { error: 'a request path starts with /' }).optional(),
    headers: HeadersSchema.optional(),
    body: jsonValue.optional(),
    status: z.int().min(100).max(599).default(200).describe('Expected HTTP status (default 200).'),
    timeout: duration({ max: HOUR_MS, maxText: '1h' }).prefault('35s'),
  })
  .describe('A request through the gateway expecting a status; fields left out come from spec.load.request.');

export const SteadyStateCheckSchema = oneKey('steady-state check', {
  podsReady: PodsReadySchema,
  probe: ProbeSchema,
}).describe('A check that must hold before faults and again after recovery.');

// ---------------------------------------------------------------------------------------------
// load

export const ENGINES = ['builtin', 'k6', 'k6-operator'] as const;

const THRESHOLD = /^(avg|min|max|med|count|rate|value|p\(\d+(\.\d+)?\))\s*(<|<=|>|>=|==|===|!=)\s*-?\d+(\.\d+)?$/;

export const VariantSchema = z
  .strictObject({
    name: dnsName().describe('Variant name, available as {{variant}} and used by criteria (variantRouting).'),
    headers: HeadersSchema.optional(),
    body: jsonValue.optional().describe('Replaces the body of spec.load.request for this variant.'),
    path: z.string().regex(/^\//, { error: 'a request path starts with /' }).optional(),
  })
  .superRefine((v, ctx) => {
    checkTemplates(v.headers, ctx, ['headers']);
    checkTemplates(v.body, ctx, ['body']);
  })
  .describe("A request variant: its headers are added to spec.load.request's, its body and path replace them.");

export const LoadSpecSchema = z
  .strictObject({
    engine: z
      .enum(ENGINES)
      .default('builtin')
      .describe('builtin (no install), k6 (a k6 binary on PATH) or k6-operator (a TestRun in the cluster).'),
    script: suitePath('k6 script (TS or JS)')
      .optional()
      .describe(
        'A k6 script, relative to the suite file; builtin runs it too. Without it, engines k6 and k6-operator run the load compiled to a k6 script.',
      ),
    requests: z.int().min(1).max(1_000_000, { error: 'must be at most 1000000' }).optional().describe('Closed model: total requests.'),
    concurrency: z
      .int()
      .min(1)
      .max(1000, { error: 'must be at most 1000' })
      .optional()
      .describe('Closed model: requests in flight at once (default 1), like xargs -P.'),
    rate: z.number().positive().max(100_000).optional().describe('Open model: requests started per second.'),
    duration: duration({ max: HOUR_MS, maxText: '1h' }).optional().describe('Open model: how long to keep the arrival rate (at most 1h).'),
    maxInFlight: z
      .int()
      .min(1)
      .max(10_000)
      .optional()
      .describe('Open model: cap on requests in flight (default 100); arrivals over it are counted as dropped.'),
    timeout: duration({ max: HOUR_MS, maxText: '1h' })
      .prefault('35s')
      .describe('Per-request timeout that aborts the request, like curl --max-time (default 35s).'),
    warmup: z.int().min(0).max(10_000).default(0).describe('Requests sent before the measured load and not counted.'),
    stream: z.boolean().default(false).describe('Ask for a streamed (SSE) response and measure time to first token.'),
    request: RequestTemplateSchema.prefault({}),
    variants: z
      .array(VariantSchema)
      .min(1)
      .optional()
      .describe(
        'Request variants taken in turn: request i uses variants[(i-1) % n]. For A/B suites (e.g. header x-kv-backend nvlink vs fs).',
      ),
    thresholds: z
      .record(
        z.string().min(1),
        z.array(z.string().regex(THRESHOLD, { error: 'expected a k6 threshold such as p(95)<500 or rate<0.01' })).min(1),
      )
      .optional()
      .describe('k6-style thresholds: metric -> expressions, e.g. http_req_duration: ["p(95)<2000"], http_req_failed: ["rate<0.01"].'),
    parallelism: z.int().min(1).max(100).optional().describe('k6-operator: number of runner pods.'),
  })
  .superRefine((load, ctx) => {
    const closed = load.requests !== undefined;
    const open = load.rate !== undefined;
    if (closed && open)
      ctx.addIssue({ code: 'custom', path: ['rate'], message: 'rate (open model) cannot go with requests (closed model): pick one' });
    if (closed && (load.duration !== undefined || load.maxInFlight !== undefined)) {
      const key = load.duration !== undefined ? 'duration' : 'maxInFlight';
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `${key} belongs to the open model (rate); the closed model uses requests and concurrency`,
      });
    }
    if (open && load.concurrency !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['concurrency'],
        message: 'concurrency belongs to the closed model (requests); the open model uses rate, duration and maxInFlight',
      });
    }
    if (open && !closed && load.duration === undefined) ctx.addIssue({ code: 'custom', message: 'the open model (rate) needs a duration' });
    if (open && !closed && load.duration !== undefined && (load.rate! * load.duration) / 1000 < 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['rate'],
        message: `rate ${load.rate}/s for ${load.duration / 1000}s is ${+((load.rate! * load.duration) / 1000).toFixed(3)} requests, below one: raise rate or duration`,
      });
    }
    if (!closed && !open && load.script === undefined) {
      ctx.addIssue({ code: 'custom', message: 'load needs requests (closed model), rate and duration (open model), or a k6 script' });
    }
    if (load.parallelism !== undefined && load.engine !== 'k6-operator') {
      ctx.addIssue({ code: 'custom', path: ['parallelism'], message: 'parallelism only applies to engine k6-operator' });
    }
    if (load.variants) {
      const seen = new Set<string>();
      load.variants.forEach((v, i) => {
        if (seen.has(v.name))
          ctx.addIssue({ code: 'custom', path: ['variants', i, 'name'], message: `duplicate variant name "${v.name}"` });
        seen.add(v.name);
      });
    }
  })
  .describe('Load through the gateway: a closed model (requests at a concurrency) or an open model (rate for a duration).');

// ---------------------------------------------------------------------------------------------
// faults

/** One fault; the items and their schemas come from the fault registry (chaos/faults/schemas.ts). */
export const FaultSchema = oneKey('fault', faultSchemas()).describe(
  `A fault injected during the load: ${FAULT_NAMES.slice(0, -1).join(', ')} or ${FAULT_NAMES.at(-1)}.`,
);

export { IndexErrorTriggerSchema, PodKillModeSchema } from '../chaos/faults/schemas.ts';

// ---------------------------------------------------------------------------------------------
// recovery, repro

/** `spec.recovery`: the `recovery` criterion's schema (criteria/recovery.ts), so both read the same. */
export const RecoverySchema = RecoveryCriterionSchema.describe('Recovery thresholds after faults.');

export { CONNECTORS };

export const ReproSchema = z
  .strictObject({
    connectors: z.array(z.enum(CONNECTORS)).min(1).describe('KV connectors to try: p2p (P2pNcclConnector), fs (ExampleConnector).'),
    concurrency: z.array(z.int().min(1).max(1000)).min(1).describe('Concurrency levels to try.'),
    promptTokens: z.array(z.int().min(1).max(1_000_000)).min(1).describe("Prompt lengths in tokens (the seed's max-model-len is 2048)."),
    clientTimeout: z
      .array(duration({ max: HOUR_MS, maxText: '1h' }))
      .min(1)
      .describe('Client timeouts to try; short ones abort requests mid-transfer, like curl --max-time.'),
    requestsPerCell: z.int().min(1).max(100_000).describe('Requests sent in each matrix cell.'),
    seed: z.int().default(1).describe('Random seed for prompts and triggers, so a cell can be replayed.'),
  })
  .superRefine((r, ctx) => {
    const cells = r.connectors.length * r.concurrency.length * r.promptTokens.length * r.clientTimeout.length;
    if (cells * r.requestsPerCell > 1_000_000) {
      ctx.addIssue({
        code: 'custom',
        path: ['requestsPerCell'],
        message: `the matrix has ${cells} cells: ${cells} x ${r.requestsPerCell} requests is over the 1000000 limit`,
      });
    }
  })
  .describe('A reproduction campaign: connector x concurrency x prompt length x client timeout.');

// ---------------------------------------------------------------------------------------------
// criteria

/** One success criterion; the items and their schemas come from the criteria registry (criteria/registry.ts). */
export const CriterionSchema = oneKey('criterion', criterionSchemas()).describe('A success criterion.');

// ---------------------------------------------------------------------------------------------
// the suite

/** `spec.timeouts`: overrides of the run's named waits (core/timeouts.ts); `--timeout NAME=DURATION` wins over them. */
const TimeoutsSchema = z
  .record(z.string(), duration({ min: 1, max: MAX_TIMEOUT_MS, maxText: formatTimeout(MAX_TIMEOUT_MS) }))
  .superRefine((t, ctx) => {
    for (const name of Object.keys(t)) {
      if (!isTimeoutName(name))
        ctx.addIssue({ code: 'custom', path: [name], message: `unknown timeout (known: ${TIMEOUT_NAMES.join(', ')})` });
    }
  })
  .transform((t) => t as Partial<TimeoutConfig>)
  .meta({ propertyNames: { enum: [...TIMEOUT_NAMES] } })
  .describe(`Overrides of the run's named waits, e.g. {deploy: 5m}. Names: ${TIMEOUT_NAMES.join(', ')}.`);

export const SuiteSpecSchema = z
  .strictObject({
    target: TargetSchema,
    deploy: z
      .array(suitePath('Manifest file or directory'))
      .default([])
      .describe('Manifests applied first (server-side apply; CRDs first), relative to the suite file.'),
    setup: z.array(SetupStepSchema).default([]).describe('Steps run in order after deploy.'),
    steadyState: z.array(SteadyStateCheckSchema).default([]).describe('Checks that must hold before faults and again after recovery.'),
    load: LoadSpecSchema.optional(),
    faults: z.array(FaultSchema).default([]).describe('Faults injected while the load runs.'),
    recovery: RecoverySchema.optional(),
    repro: ReproSchema.optional(),
    criteria: z.array(CriterionSchema).default([]).describe('Success criteria, all of which must pass.'),
    timeouts: TimeoutsSchema.optional(),
  })
  .describe('What the suite deploys, does and checks.');

export const SuiteSchema = z
  .strictObject({
    apiVersion: z.literal('pd-harness.dev/v1', { error: 'expected apiVersion: pd-harness.dev/v1' }),
    kind: z.literal('Suite', { error: 'expected kind: Suite' }),
    metadata: MetadataSchema,
    spec: SuiteSpecSchema,
  })
  .superRefine((suite, ctx) => checkCrossReferences(suite.spec, ctx))
  .meta({ title: 'pd-harness Suite' })
  .describe('A pd-harness suite: deploy, set up, load, inject faults and check criteria.');

/** Checks between parts of the spec: the guard, and names that must refer to something. */
function checkCrossReferences(spec: z.output<typeof SuiteSpecSchema>, ctx: z.RefinementCtx): void {
  const allowed = new Set(spec.target.namespaces);
  const guard = (ns: string, path: (string | number)[]) => {
    if (!allowed.has(ns)) {
      ctx.addIssue({
        code: 'custom',
        path: ['spec', ...path],
        message: `namespace "${ns}" is outside the target guard (spec.target.namespaces: ${[...allowed].join(', ')})`,
      });
    }
  };
  spec.setup.forEach((step, i) => {
    if ('patch' in step) guard(step.patch.namespace, ['setup', i, 'patch', 'namespace']);
    if ('rolloutRestart' in step) guard(step.rolloutRestart.namespace, ['setup', i, 'rolloutRestart', 'namespace']);
    if ('wait' in step) {
      const f = step.wait.for;
      const [kind, body] = Object.entries(f)[0] as [string, { namespace: string }];
      guard(body.namespace, ['setup', i, 'wait', 'for', kind, 'namespace']);
    }
  });
  if (spec.target.loadNamespace !== undefined) guard(spec.target.loadNamespace, ['target', 'loadNamespace']);
  spec.steadyState.forEach((check, i) => {
    if ('podsReady' in check) guard(check.podsReady.namespace, ['steadyState', i, 'podsReady', 'namespace']);
  });
  spec.faults.forEach((fault, i) => {
    const [kind, body] = Object.entries(fault)[0] as [string, { namespace: string }];
    guard(body.namespace, ['faults', i, kind, 'namespace']);
  });
  if (spec.faults.length > 0 && !spec.load) {
    ctx.addIssue({ code: 'custom', path: ['spec', 'faults'], message: 'faults are injected during the load: add spec.load' });
  }
  const variants = new Set(spec.load?.variants?.map((v) => v.name) ?? []);
  spec.criteria.forEach((c, i) => {
    if ('variantRouting' in c) {
      for (const name of Object.keys(c.variantRouting)) {
        if (!variants.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['spec', 'criteria', i, 'variantRouting', name],
            message: `no variant "${name}" in spec.load.variants${variants.size ? ` (have: ${[...variants].join(', ')})` : ''}`,
          });
        }
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// types the rest of the harness uses (durations are milliseconds)

export type Suite = z.output<typeof SuiteSchema>;
export type SuiteInput = z.input<typeof SuiteSchema>;
export type SuiteMetadata = z.output<typeof MetadataSchema>;
export type SuiteSpec = z.output<typeof SuiteSpecSchema>;
export type TargetGuard = z.output<typeof TargetSchema>;
export type SetupStep = z.output<typeof SetupStepSchema>;
export type PatchStep = z.output<typeof PatchStepSchema>;
export type ApplyStep = z.output<typeof ApplyStepSchema>;
export type RolloutRestartStep = z.output<typeof RolloutRestartStepSchema>;
export type WaitStep = z.output<typeof WaitStepSchema>;
export type WaitFor = z.output<typeof WaitForSchema>;
export type SteadyStateCheck = z.output<typeof SteadyStateCheckSchema>;
export type Probe = z.output<typeof ProbeSchema>;
export type RequestTemplate = z.output<typeof RequestTemplateSchema>;
export type RequestVariant = z.output<typeof VariantSchema>;
export type LoadSpec = z.output<typeof LoadSpecSchema>;
export type LoadEngine = (typeof ENGINES)[number];
export type Fault = z.output<typeof FaultSchema>;
export type PodKillFault = z.output<FaultSchemas['podKill']>;
export type { PodKillMode, IndexErrorTrigger } from '../chaos/faults/schemas.ts';
export type EppRestartFault = z.output<FaultSchemas['eppRestart']>;
export type DecodeIndexErrorFault = z.output<FaultSchemas['decodeIndexError']>;
export type LatencyFault = z.output<FaultSchemas['latency']>;
export type ErrorRateFault = z.output<FaultSchemas['errorRate']>;
export type Recovery = z.output<typeof RecoverySchema>;
export type ReproMatrix = z.output<typeof ReproSchema>;
export type Connector = (typeof CONNECTORS)[number];
export type Criterion = z.output<typeof CriterionSchema>;
/** The name of a criterion: `routeBackend`, `responses`, ... */
export type CriterionKind = Criterion extends infer C ? (C extends Record<infer K, unknown> ? K : never) : never;

/** The single key of a one-key object (setup step, fault, criterion, ...). */
export function kindOf<T extends object>(item: T): keyof T & string {
  return Object.keys(item)[0] as keyof T & string;
}

import { GuardRefusal } from '../core/errors.ts';
import { parseKindName } from '../cluster/refs.ts';
import type { TargetGuard } from '../suites/schema.ts';
import { matchLabels, parseLabelSelector } from '../k8s-rules/labels.ts';
import type { FaultKind } from './types.ts';
import { describeWrite, type PlannedWrite } from './write-set.ts';

export { GuardRefusal } from '../core/errors.ts';

/** What one fault would act on, as the guard judges it. */
export interface GuardSubject {
  /** 0-based index in spec.faults. */
  index: number;
  kind: FaultKind;
  namespace: string;
  /** Every pod the fault may act on (all candidates, not only the ones a seeded mode picked). */
  pods: { name: string; labels: Record<string, string> }[];
}

/** The parts of spec.target the guard reads. */
export type GuardTarget = Pick<TargetGuard, 'namespaces' | 'selectors'> & { clusterScoped?: readonly string[] };

export type GuardDecision = { ok: true } | { ok: false; problems: string[]; message: string };

/**
 * The guard: a fault may act only in `target.namespaces`, and, when `target.selectors` is given, only on
 * pods matching at least one of them. All faults are judged before any runs, so a refusal touches nothing.
 */
export function guardFaults(target: GuardTarget, subjects: readonly GuardSubject[]): GuardDecision {
  const namespaces = new Set(target.namespaces);
  const selectors = (target.selectors ?? []).map((text) => ({ text, reqs: parseLabelSelector(text) }));
  const problems: string[] = [];
  for (const s of subjects) {
    const name = `fault ${s.index + 1} (${s.kind})`;
    if (!namespaces.has(s.namespace)) {
      problems.push(`${name} targets namespace ${s.namespace}, outside spec.target.namespaces [${target.namespaces.join(', ')}]`);
      continue;
    }
    if (selectors.length === 0) continue;
    const outside = s.pods.filter((p) => !selectors.some((sel) => matchLabels(sel.reqs, p.labels)));
    if (outside.length) {
      const names =
        outside
          .slice(0, 3)
          .map((p) => p.name)
          .join(', ') + (outside.length > 3 ? ` and ${outside.length - 3} more` : '');
      problems.push(
        `${name} would act on pod(s) ${names} in ${s.namespace}, matching none of spec.target.selectors [${selectors.map((x) => x.text).join('; ')}]`,
      );
    }
  }
  if (problems.length === 0) return { ok: true };
  return { ok: false, problems, message: `refused by the target guard, nothing was touched: ${problems.join('; ')}` };
}

/** Throws the guard's one-line refusal. */
export function assertGuard(target: GuardTarget, subjects: readonly GuardSubject[]): void {
  const d = guardFaults(target, subjects);
  if (!d.ok) throw new GuardRefusal(d.message);
}

// ---------------------------------------------------------------------------------------------
// the guard over every write

/** Namespaces a run never writes to without --allow-protected. */
export const ALWAYS_PROTECTED = ['kube-system', 'kube-public', 'kube-node-lease'] as const;

export interface WriteGuardOptions {
  /** `--allow-protected`: protected namespaces may be written when they are in the target. */
  allowProtected?: boolean;
  /** The namespace holding the harness's own credentials (a service account's), when known. */
  credentialsNamespace?: string;
}

/** The protected namespaces for a target: kube-*, `default` unless the target lists it, the credentials' namespace. */
export function protectedNamespaces(target: GuardTarget, opts: WriteGuardOptions = {}): string[] {
  const out: string[] = [...ALWAYS_PROTECTED];
  if (!target.namespaces.includes('default')) out.push('default');
  if (opts.credentialsNamespace && !out.includes(opts.credentialsNamespace)) out.push(opts.credentialsNamespace);
  return out;
}

export type WriteVerdict = { ok: true; why: string } | { ok: false; why: string };
export type JudgedWrite = PlannedWrite & { verdict: WriteVerdict };

/** Problems with the target itself: a protected namespace in spec.target.namespaces needs --allow-protected. */
export function targetProblems(target: GuardTarget, opts: WriteGuardOptions = {}): string[] {
  if (opts.allowProtected) return [];
  const prot = new Set(protectedNamespaces({ ...target, namespaces: [] }, opts));
  return target.namespaces
    .filter((ns) => prot.has(ns) && ns !== 'default')
    .map((ns) => `spec.target.namespaces lists the protected namespace ${ns}: remove it, or pass --allow-protected`);
}

/** One object's verdict: inside the target (namespace, or the cluster-scoped allow-list) and not protected. */
export function judgeWrite(target: GuardTarget, w: PlannedWrite, opts: WriteGuardOptions = {}): WriteVerdict {
  const inTarget = new Set(target.namespaces);
  const prot = new Set(protectedNamespaces(target, opts));
  const allowList = (target.clusterScoped ?? []).map(parseKindName).filter((x) => x !== undefined);
  const listed = allowList.some((a) => a.kind.toLowerCase() === w.kind.toLowerCase() && a.name === w.name);
  const protectedNs = (ns: string): WriteVerdict | undefined =>
    prot.has(ns) && !opts.allowProtected
      ? { ok: false, why: `namespace ${ns} is protected: pass --allow-protected to write there` }
      : undefined;
  if (w.scope === 'cluster' || (w.scope === 'unknown' && w.defaultedNamespace && listed)) {
    if (w.kind === 'Namespace' && inTarget.has(w.name))
      return protectedNs(w.name) ?? { ok: true, why: 'a namespace of spec.target.namespaces' };
    if (listed)
      return { ok: true, why: `listed in spec.target.clusterScoped${w.scope === 'unknown' ? ' (scope checked on the live cluster)' : ''}` };
    return {
      ok: false,
      why: `cluster-scoped ${w.kind}/${w.name} is not in spec.target.clusterScoped: add "${w.kind}/${w.name}" there if the suite may change it`,
    };
  }
  const ns = w.namespace ?? 'default';
  const where = w.defaultedNamespace ? `${ns} (no metadata.namespace: the client's default)` : ns;
  if (!inTarget.has(ns))
    return { ok: false, why: `namespace ${where} is outside spec.target.namespaces [${target.namespaces.join(', ')}]` };
  return (
    protectedNs(ns) ?? {
      ok: true,
      why: `inside spec.target.namespaces${w.scope === 'unknown' ? ' (scope checked on the live cluster)' : ''}`,
    }
  );
}

export function judgeWrites(target: GuardTarget, writes: readonly PlannedWrite[], opts: WriteGuardOptions = {}): JudgedWrite[] {
  return writes.map((w) => ({ ...w, verdict: judgeWrite(target, w, opts) }));
}

/** The refusal (one line) for a judged write set, or undefined when every write is allowed. */
export function writeRefusal(target: GuardTarget, judged: readonly JudgedWrite[], opts: WriteGuardOptions = {}): string | undefined {
  const problems = [
    ...targetProblems(target, opts),
    ...judged.filter((j) => !j.verdict.ok).map((j) => `${j.source}: ${describeWrite(j)}: ${j.verdict.why}`),
  ];
  if (problems.length === 0) return undefined;
  const shown =
    problems.slice(0, 3).join('; ') +
    (problems.length > 3 ? `; and ${problems.length - 3} more (pd-harness run --dry-run lists them)` : '');
  return `refused by the target guard, nothing was written: ${shown}`;
}

/** One line per write with its verdict, for the dry run. */
export function formatWriteSet(judged: readonly JudgedWrite[]): string {
  const lines = [`write set: ${judged.length} object(s), cleanup included`];
  for (const j of judged) {
    lines.push(
      `  ${j.verdict.ok ? 'ok     ' : 'REFUSED'} ${describeWrite(j)} [${j.verbs.join(',')}] from ${j.source}: ${j.what}; ${j.verdict.why}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

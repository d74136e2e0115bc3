import { parse, stringify } from '#yaml';
import { z } from '#zod';
import { FAILURE_CAUSES, type FailureCause } from '../criteria/verdict.ts';

/**
 * The conformance report, in the spirit of the Gateway API conformance report: who ran what against
 * which target, and each suite's result with its criteria, grouped by profile (Playwright project).
 */

export const PROFILE_NAMES = ['conformance', 'chaos', 'repro'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export const SuiteResult = z.enum(['passed', 'failed', 'skipped']);

export const CriterionReport = z.object({
  name: z.string().min(1),
  ok: z.boolean(),
  summary: z.string(),
  /** Why a failed criterion failed (criteria/verdict.ts FAILURE_CAUSES): routing, no-candidate, no-data, ... */
  cause: z.enum(FAILURE_CAUSES).optional(),
});

export const SuiteReport = z.object({
  name: z.string().min(1),
  result: SuiteResult,
  durationMs: z.number().int().nonnegative(),
  tags: z.array(z.string()).optional(),
  /** First line of the failure when the test failed outside its criteria (e.g. a wait timed out). */
  message: z.string().optional(),
  criteria: z.array(CriterionReport),
});

export const ProfileReport = z.object({
  name: z.enum(PROFILE_NAMES),
  summary: z.object({
    passed: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
  }),
  suites: z.array(SuiteReport),
});

export const ConformanceReport = z.object({
  apiVersion: z.literal('pd-harness.dev/v1'),
  kind: z.literal('ConformanceReport'),
  date: z.iso.datetime(),
  harness: z.object({ version: z.string(), gitCommit: z.string() }),
  target: z.object({
    kind: z.enum(['twin', 'cluster', 'unknown']),
    apiServer: z.string().optional(),
    serverVersion: z.string().optional(),
    gatewayUrl: z.string().optional(),
  }),
  profiles: z.array(ProfileReport),
});

export type SuiteResult = z.infer<typeof SuiteResult>;
export type CriterionReport = z.infer<typeof CriterionReport>;
export type SuiteReport = z.infer<typeof SuiteReport>;
export type ProfileReport = z.infer<typeof ProfileReport>;
export type ConformanceReport = z.infer<typeof ConformanceReport>;

/** One finished test as the reporter sees it. */
export interface SuiteRun {
  profile: ProfileName;
  name: string;
  /** Playwright's status: passed, failed, timedOut, skipped, interrupted. */
  status: string;
  durationMs: number;
  tags?: string[];
  errorMessage?: string;
  criteria?: { name: string; ok: boolean; summary: string; cause?: FailureCause }[];
}

export function isProfileName(name: string): name is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(name);
}

export function suiteResultOf(status: string): SuiteResult {
  if (status === 'passed') return 'passed';
  if (status === 'skipped') return 'skipped';
  return 'failed';
}

export interface ReportContext {
  date: Date;
  harness: { version: string; gitCommit: string };
  target: ConformanceReport['target'];
}

/** Builds the report; a suite retried keeps its last run. Profiles in PROFILE_NAMES order, suites by name. */
export function buildConformanceReport(runs: readonly SuiteRun[], ctx: ReportContext): ConformanceReport {
  const profiles: ProfileReport[] = [];
  for (const profile of PROFILE_NAMES) {
    const last = new Map<string, SuiteRun>();
    for (const r of runs) if (r.profile === profile) last.set(r.name, r);
    if (last.size === 0) continue;
    const suites = [...last.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r): SuiteReport => {
        const result = suiteResultOf(r.status);
        const criteria = (r.criteria ?? []).map((c) => ({
          name: c.name,
          ok: c.ok,
          summary: c.summary,
          ...(!c.ok && c.cause ? { cause: c.cause } : {}),
        }));
        const failedCriteria = criteria.some((c) => !c.ok);
        const firstLine = r.errorMessage
          ?.split('\n')
          .find((l) => l.trim())
          ?.trim();
        return {
          name: r.name,
          result,
          durationMs: Math.max(0, Math.round(r.durationMs)),
          ...(r.tags?.length ? { tags: r.tags } : {}),
          ...(result === 'failed' && firstLine && !failedCriteria ? { message: stripAnsi(firstLine) } : {}),
          criteria,
        };
      });
    const count = (x: SuiteResult) => suites.filter((s) => s.result === x).length;
    profiles.push({ name: profile, summary: { passed: count('passed'), failed: count('failed'), skipped: count('skipped') }, suites });
  }
  return ConformanceReport.parse({
    apiVersion: 'pd-harness.dev/v1',
    kind: 'ConformanceReport',
    date: ctx.date.toISOString(),
    harness: ctx.harness,
    target: ctx.target,
    profiles,
  });
}

export function conformanceReportYaml(report: ConformanceReport): string {
  return `# pd-harness conformance report (schema: reporters/conformance-report.ts)\n${stringify(report, { lineWidth: 0 })}`;
}

/** Parses and validates a report file's text; throws one line naming the first problem. */
export function parseConformanceReport(text: string): ConformanceReport {
  const result = ConformanceReport.safeParse(parse(text));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new Error(`not a valid ConformanceReport: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

function stripAnsi(s: string): string {
  return s.replace(/\u001b\[[0-9;]*m/g, '');
}

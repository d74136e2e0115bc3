import { stringify } from '#yaml';
import { formatDecisionTable } from '../analysis/decision-table.ts';
import { withDerivedEpp, type Observations } from '../criteria/observations.ts';
import type { Verdict } from '../criteria/verdict.ts';
import type { LoadResult } from '../load/result.ts';
import { textTable } from '../reporters/attach.ts';
import { latencyHistogramSpec, pickSplitSpec, renderSvg, throughputSpec } from '../reporters/charts.ts';
import { describeLoadedProfiles, recordEnvironment } from '../reporters/environment.ts';
import { redact, redactObject } from '../core/redact.ts';
import type { RunReporter } from './reporter.ts';

/** The evidence a person opens in the report: load summary, pick split, EPP decisions, criteria. */

const JSON_TYPE = 'application/json';

export async function attachLoadEvidence(rep: RunReporter, load: LoadResult): Promise<void> {
  await rep.attach('load summary', loadSummaryTable(load), 'text/plain');
  await rep.attach(
    'load summary.json',
    JSON.stringify(
      redactObject({ engine: load.engine, startedAt: load.startedAt, summary: load.summary, thresholds: load.thresholds }),
      null,
      2,
    ),
    JSON_TYPE,
  );
  await rep.attach('load requests.json', JSON.stringify(redactObject(load.records)), JSON_TYPE);
  if (load.records.length) {
    await attachChart(rep, 'latency histogram.svg', () => renderSvg(latencyHistogramSpec(load.records)));
    await attachChart(rep, 'throughput over time.svg', () => renderSvg(throughputSpec(load.records)));
  }
}

/** A chart is a convenience: one that cannot render is logged, never a failed test. */
async function attachChart(rep: RunReporter, name: string, render: () => Promise<string>): Promise<void> {
  try {
    await rep.attach(name, await render(), 'image/svg+xml');
  } catch (err) {
    rep.log(`chart ${name} not rendered: ${(err as Error).message.split('\n')[0]}`);
  }
}

export function loadSummaryTable(load: LoadResult): string {
  const s = load.summary;
  const ms = (n: number) => `${n.toFixed(1)} ms`;
  const rows = [
    ['engine', load.engine],
    ['requests', String(s.requests)],
    ...Object.entries(s.byStatus).map(([status, n]) => [`HTTP ${status}`, String(n)]),
    ...Object.entries(s.errors).map(([kind, n]) => [`error ${kind}`, String(n)]),
    ['throughput', `${s.throughput.toFixed(1)} req/s`],
    ['latency p50 / p95 / p99 / max', `${ms(s.latencyMs.p50)} / ${ms(s.latencyMs.p95)} / ${ms(s.latencyMs.p99)} / ${ms(s.latencyMs.max)}`],
    ...(s.ttftMs ? [['TTFT p50 / p95', `${ms(s.ttftMs.p50)} / ${ms(s.ttftMs.p95)}`]] : []),
    ...(load.thresholds ?? []).map((t) => [`threshold ${t.metric} ${t.expression}`, t.ok ? 'ok' : 'CROSSED']),
  ];
  return textTable(rows);
}

export async function attachObservations(rep: RunReporter, observations: Observations): Promise<void> {
  const obs = withDerivedEpp(observations);
  if (obs.eppConfigYaml) await rep.attach('EPP config (epp-config.yaml)', redact(obs.eppConfigYaml), 'text/yaml');
  if (obs.eppDecisions) {
    await rep.attach('EPP pick split', formatDecisionTable(obs.eppDecisions), 'text/plain');
    if (Object.keys(obs.eppDecisions.byWorkload).length)
      await attachChart(rep, 'EPP pick split.svg', () => renderSvg(pickSplitSpec(obs.eppDecisions!.byWorkload)));
  }
  if (obs.eppLoadedProfiles?.length) recordEnvironment({ 'epp.schedulingProfile': describeLoadedProfiles(obs.eppLoadedProfiles) });
  const lines = obs.eppLogLines ?? [];
  const decisions = lines.filter((l) => l.includes('Scoring decision'));
  // a stock EPP's per-request lines (GAIE director.go "Request handled", -v>=3)
  const handled = lines.filter((l) => l.includes('"Request handled"') || l.includes('] "Request handled"'));
  const notable = lines.filter((l) =>
    /Loaded scheduling profile|parsed config|InferencePoolResourceExhausted|failed to run scheduler profile|"level":"error"/.test(l),
  );
  if (lines.length) {
    const excerpt = [...notable.slice(0, 20), ...decisions.slice(0, 20), ...handled.slice(0, 20)];
    await rep.attach(
      'EPP decisions (excerpt)',
      redact(
        `${excerpt.join('\n')}\n(${decisions.length} decisions, ${handled.length} "Request handled" lines, ${lines.length} lines in the window)\n`,
      ),
      'text/plain',
    );
  }
  if (obs.eppDecisions?.requestLog) {
    await rep.attach(
      'EPP request log by address.json',
      JSON.stringify({ ...obs.eppDecisions.requestLog, podIps: obs.podIps ?? [] }, null, 2),
      JSON_TYPE,
    );
  }
  if (obs.httpRoutes.length || obs.inferencePools.length) {
    await rep.attach(
      'routes and pools',
      redact(stringify({ httpRoutes: obs.httpRoutes.map(trim), inferencePools: obs.inferencePools.map(trim) })),
      'text/yaml',
    );
  }
}

export async function attachVerdicts(rep: RunReporter, verdicts: Verdict[]): Promise<void> {
  await rep.attach('criteria', criteriaTable(verdicts), 'text/plain');
  await rep.attach('criteria.json', JSON.stringify(redactObject(verdicts), null, 2), JSON_TYPE);
}

export function criteriaTable(verdicts: Verdict[]): string {
  return textTable([['CRITERION', 'RESULT', 'SUMMARY'], ...verdicts.map((v) => [v.name, v.ok ? 'pass' : 'FAIL', v.summary])]);
}

function trim(obj: unknown): unknown {
  const o = obj as { metadata?: Record<string, unknown> };
  if (!o?.metadata) return obj;
  const { managedFields: _m, ...metadata } = o.metadata;
  return { ...o, metadata };
}

/**
 * The campaign summary: crash rate per cell, per connector and per load dimension, and the answer to the
 * seed's open question "is it P2P-only, and what load triggers it". Pure; Markdown and JSON.
 */
import type { ErrorKind, LoadSummary } from '../../load/result.ts';
import type { Connector } from '../../suites/schema.ts';
import { durationLabel, type ReproCell } from './matrix.ts';

/** What one cell did. */
export interface CellOutcome {
  cell: ReproCell;
  /** The cell's own seed (from the campaign seed and the cell id). */
  seed: number;
  /** True when a crash trigger was set on the twin for this cell (never on a real cluster). */
  injected: boolean;
  requests: number;
  byStatus: Record<string, number>;
  errors: Partial<Record<ErrorKind, number>>;
  crashes: number;
  /** Restarts without the IndexError/EngineDeadError signature. */
  otherRestarts: number;
  /** Bundle directories of this cell's crashes, relative to the campaign directory. */
  bundles: string[];
  /** Why the cell's load stopped before its plan was done, if it did. */
  incomplete?: string;
  /** Client-side latency of the cell's requests (to the response end or the error). */
  latencyMs?: { p50: number; p95: number };
}

export interface CellRow {
  id: string;
  connector: Connector;
  concurrency: number;
  promptTokens: number;
  clientTimeout: string;
  seed: number;
  injected: boolean;
  requests: number;
  crashes: number;
  /** Crashes per request sent. */
  crashRate: number;
  otherRestarts: number;
  /** Non-2xx statuses as `http-<status>` and transport errors by kind (timeout, reset, ...). */
  errorsByKind: Record<string, number>;
  latencyMs?: { p50: number; p95: number };
  bundles: string[];
}

export interface Aggregate {
  cells: number;
  cellsWithCrash: number;
  crashes: number;
  requests: number;
  crashRate: number;
}

export type Dimension = 'concurrency' | 'promptTokens' | 'clientTimeout';

export interface CampaignAnswer {
  /** yes: crashes on P2P only, with FS tested; no: FS crashed too; unknown: no crash, or FS not tested. */
  p2pOnly: 'yes' | 'no' | 'unknown';
  /** The cells that crashed. */
  crashingCells: string[];
  /** Per dimension: the values at which crashes happened, and those at which none did (connectors that crashed). */
  triggers: Record<Dimension, { crashed: string[]; clean: string[] }>;
  text: string;
}

export interface CampaignSummary {
  campaign: string;
  suiteFile: string;
  seed: number;
  target: string;
  startedAt: string;
  finishedAt: string;
  cells: CellRow[];
  totals: Aggregate;
  byConnector: Partial<Record<Connector, Aggregate>>;
  byDimension: Record<Dimension, Record<string, Aggregate>>;
  answer: CampaignAnswer;
}

export function errorsByKind(summary: Pick<LoadSummary, 'byStatus' | 'errors'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [status, n] of Object.entries(summary.byStatus)) if (Number(status) >= 400 && n > 0) out[`http-${status}`] = n;
  for (const [kind, n] of Object.entries(summary.errors)) if (n) out[kind] = n;
  return out;
}

export function cellRow(o: CellOutcome): CellRow {
  return {
    id: o.cell.id,
    connector: o.cell.connector,
    concurrency: o.cell.concurrency,
    promptTokens: o.cell.promptTokens,
    clientTimeout: durationLabel(o.cell.clientTimeoutMs),
    seed: o.seed,
    injected: o.injected,
    requests: o.requests,
    crashes: o.crashes,
    crashRate: o.requests > 0 ? o.crashes / o.requests : 0,
    otherRestarts: o.otherRestarts,
    errorsByKind: errorsByKind({ byStatus: o.byStatus, errors: o.errors }),
    ...(o.latencyMs ? { latencyMs: o.latencyMs } : {}),
    bundles: o.bundles,
  };
}

export function aggregate(rows: readonly CellRow[]): Aggregate {
  const requests = rows.reduce((n, r) => n + r.requests, 0);
  const crashes = rows.reduce((n, r) => n + r.crashes, 0);
  return {
    cells: rows.length,
    cellsWithCrash: rows.filter((r) => r.crashes > 0).length,
    crashes,
    requests,
    crashRate: requests > 0 ? crashes / requests : 0,
  };
}

function dimensionValue(r: CellRow, d: Dimension): string {
  return d === 'clientTimeout' ? r.clientTimeout : String(r[d]);
}

function groupBy(rows: readonly CellRow[], key: (r: CellRow) => string): Record<string, Aggregate> {
  const groups = new Map<string, CellRow[]>();
  for (const r of rows) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  return Object.fromEntries([...groups].map(([k, rs]) => [k, aggregate(rs)]));
}

const DIMENSIONS: Dimension[] = ['concurrency', 'promptTokens', 'clientTimeout'];

export function answerQuestion(rows: readonly CellRow[]): CampaignAnswer {
  const p2p = aggregate(rows.filter((r) => r.connector === 'p2p'));
  const fs = aggregate(rows.filter((r) => r.connector === 'fs'));
  const crashing = rows.filter((r) => r.crashes > 0);
  const crashedConnectors = new Set(crashing.map((r) => r.connector));
  const relevant = rows.filter((r) => crashedConnectors.has(r.connector));
  const triggers = Object.fromEntries(
    DIMENSIONS.map((d) => {
      const byValue = groupBy(relevant, (r) => dimensionValue(r, d));
      const crashed = Object.keys(byValue).filter((v) => byValue[v]!.crashes > 0);
      const clean = Object.keys(byValue).filter((v) => byValue[v]!.crashes === 0);
      return [d, { crashed, clean }];
    }),
  ) as CampaignAnswer['triggers'];

  let p2pOnly: CampaignAnswer['p2pOnly'];
  let headline: string;
  if (crashing.length === 0) {
    p2pOnly = 'unknown';
    headline = `No crash in ${rows.length} cell(s), ${p2p.requests + fs.requests} request(s): the matrix did not trigger the IndexError.`;
  } else if (fs.crashes > 0 && p2p.crashes > 0) {
    p2pOnly = 'no';
    headline = `Not P2P-only: ${p2p.crashes} crash(es) in P2P cells and ${fs.crashes} in FS cells.`;
  } else if (fs.crashes > 0) {
    p2pOnly = 'no';
    headline = `FS only: ${fs.crashes} crash(es) in FS cells, none in ${p2p.cells} P2P cell(s).`;
  } else if (fs.cells === 0) {
    p2pOnly = 'unknown';
    headline = `${p2p.crashes} crash(es) in P2P cells; FS was not in the matrix, so P2P-only cannot be told.`;
  } else {
    p2pOnly = 'yes';
    headline = `P2P only: ${p2p.crashes} crash(es) in ${p2p.cellsWithCrash}/${p2p.cells} P2P cell(s), none in ${fs.cells} FS cell(s) (${fs.requests} request(s)).`;
  }
  const parts = [headline];
  if (crashing.length) {
    parts.push(`Crashing cells: ${crashing.map((r) => r.id).join(', ')}.`);
    for (const d of DIMENSIONS) {
      const t = triggers[d];
      parts.push(`${d}: crashes at ${t.crashed.join(', ') || '-'}${t.clean.length ? `; none at ${t.clean.join(', ')}` : ''}.`);
    }
  }
  return { p2pOnly, crashingCells: crashing.map((r) => r.id), triggers, text: parts.join(' ') };
}

export function summarizeCampaign(
  meta: Pick<CampaignSummary, 'campaign' | 'suiteFile' | 'seed' | 'target' | 'startedAt' | 'finishedAt'>,
  outcomes: readonly CellOutcome[],
): CampaignSummary {
  const cells = outcomes.map(cellRow);
  const byConnector: Partial<Record<Connector, Aggregate>> = {};
  for (const c of ['p2p', 'fs'] as const) {
    const rows = cells.filter((r) => r.connector === c);
    if (rows.length) byConnector[c] = aggregate(rows);
  }
  const byDimension = Object.fromEntries(
    DIMENSIONS.map((d) => [d, groupBy(cells, (r) => dimensionValue(r, d))]),
  ) as CampaignSummary['byDimension'];
  return { ...meta, cells, totals: aggregate(cells), byConnector, byDimension, answer: answerQuestion(cells) };
}

function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

function errorsText(e: Record<string, number>): string {
  const parts = Object.entries(e).map(([k, n]) => `${k}: ${n}`);
  return parts.length ? parts.join(', ') : '-';
}

export function summaryMarkdown(s: CampaignSummary): string {
  const lines: string[] = [];
  lines.push(`# Repro campaign ${s.campaign}`, '');
  lines.push(`Suite \`${s.suiteFile}\`, seed ${s.seed}, target ${s.target}, ${s.startedAt} to ${s.finishedAt}.`, '');
  lines.push(`**Answer:** ${s.answer.text}`, '');
  lines.push('## Crash rate per cell', '');
  lines.push(
    '| cell | connector | concurrency | prompt tokens | client timeout | injected | requests | crashes | crash rate | other restarts | errors | latency p50 / p95 |',
  );
  lines.push('|---|---|---:|---:|---:|---|---:|---:|---:|---:|---|---:|');
  for (const r of s.cells) {
    lines.push(
      `| ${r.id} | ${r.connector} | ${r.concurrency} | ${r.promptTokens} | ${r.clientTimeout} | ${r.injected ? 'yes' : 'no'} | ${r.requests} | ${r.crashes} | ${pct(r.crashRate)} | ${r.otherRestarts} | ${errorsText(r.errorsByKind)} | ${r.latencyMs ? `${r.latencyMs.p50} / ${r.latencyMs.p95} ms` : '-'} |`,
    );
  }
  lines.push(
    '',
    '## By connector',
    '',
    '| connector | cells | cells with a crash | crashes | requests | crash rate |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const [c, a] of Object.entries(s.byConnector))
    lines.push(`| ${c} | ${a.cells} | ${a.cellsWithCrash} | ${a.crashes} | ${a.requests} | ${pct(a.crashRate)} |`);
  for (const d of DIMENSIONS) {
    lines.push(
      '',
      `## By ${d}`,
      '',
      `| ${d} | cells | cells with a crash | crashes | requests | crash rate |`,
      '|---|---:|---:|---:|---:|---:|',
    );
    for (const [v, a] of Object.entries(s.byDimension[d]))
      lines.push(`| ${v} | ${a.cells} | ${a.cellsWithCrash} | ${a.crashes} | ${a.requests} | ${pct(a.crashRate)} |`);
  }
  const bundles = s.cells.flatMap((r) => r.bundles);
  if (bundles.length) {
    lines.push('', '## Bundles', '');
    for (const b of bundles) lines.push(`- [${b}](${b}/bundle.json)`);
  }
  return `${lines.join('\n')}\n`;
}

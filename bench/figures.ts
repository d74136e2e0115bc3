/**
 * One benchmark figure: a measured value next to its baseline from the same run, a ratio oriented so that
 * > 1 means pd-harness does better, and an optional goal. Pure: formatting and goal checks only.
 */

/** Which direction is better for the value: shorter times / less memory, or more requests per second. */
export type Better = 'lower' | 'higher';

export interface Goal {
  /** The goal applies to the ratio or to the value itself. */
  on: 'ratio' | 'value';
  op: '>=' | '<=' | '<';
  target: number;
}

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** A number in the same unit, or a sentence when the baseline is a documented constant. */
  baseline: number | string;
  better: Better;
  goal?: Goal;
  /** Extra context printed after the figure (e.g. counts compared). */
  note?: string;
}

export interface Skipped {
  name: string;
  skipped: string;
}

export type Outcome = Figure | Skipped;

export function isSkipped(o: Outcome): o is Skipped {
  return 'skipped' in o;
}

/** baseline/value for lower-is-better, value/baseline for higher-is-better; undefined when not computable. */
export function ratioOf(f: Pick<Figure, 'value' | 'baseline' | 'better'>): number | undefined {
  const base = typeof f.baseline === 'number' ? f.baseline : leadingNumber(f.baseline);
  // A zero baseline (timer or whole-millisecond resolution) has no meaningful ratio either way.
  if (base === undefined || !Number.isFinite(base) || base <= 0 || !Number.isFinite(f.value)) return undefined;
  const [num, den] = f.better === 'lower' ? [base, f.value] : [f.value, base];
  return den > 0 ? num / den : undefined;
}

function leadingNumber(text: string): number | undefined {
  const m = /^\s*(-?\d+(?:\.\d+)?)/.exec(text);
  return m ? Number(m[1]) : undefined;
}

export function goalMet(f: Figure): boolean | undefined {
  if (!f.goal) return undefined;
  const x = f.goal.on === 'ratio' ? ratioOf(f) : f.value;
  if (x === undefined) return false;
  switch (f.goal.op) {
    case '>=':
      return x >= f.goal.target;
    case '<=':
      return x <= f.goal.target;
    case '<':
      return x < f.goal.target;
  }
}

/** Fixed decimals scaled to the magnitude: 1234 → "1234", 12.3 → "12.3", 0.123 → "0.123". */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toFixed(3);
}

export function goalText(g: Goal): string {
  return `${g.on === 'ratio' ? 'ratio' : 'value'} ${g.op} ${fmt(g.target)}`;
}

/** `name: value unit (baseline: value, ratio: r)` and, when there is a goal, ` goal ...: met|MISSED`. */
export function formatFigure(o: Outcome): string {
  if (isSkipped(o)) return `${o.name}: skipped (${o.skipped})`;
  const ratio = ratioOf(o);
  const base = typeof o.baseline === 'number' ? fmt(o.baseline) : o.baseline;
  let text = `${o.name}: ${fmt(o.value)} ${o.unit} (baseline: ${base}, ratio: ${ratio === undefined ? 'n/a' : fmt(ratio)})`;
  const met = goalMet(o);
  if (o.goal) text += ` goal ${goalText(o.goal)}: ${met ? 'met' : 'MISSED'}`;
  if (o.note) text += ` [${o.note}]`;
  return text;
}

export function missed(outcomes: readonly Outcome[]): Figure[] {
  return outcomes.filter((o): o is Figure => !isSkipped(o) && goalMet(o) === false);
}

/** A markdown table row per outcome (| figure | value | baseline | ratio | goal | status |). */
export function markdownTable(outcomes: readonly Outcome[]): string {
  const rows = ['| figure | value | baseline | ratio | goal | status |', '|---|---|---|---|---|---|'];
  for (const o of outcomes) {
    if (isSkipped(o)) {
      rows.push(`| ${o.name} | – | – | – | – | skipped: ${escapeCell(o.skipped)} |`);
      continue;
    }
    const ratio = ratioOf(o);
    const base = typeof o.baseline === 'number' ? `${fmt(o.baseline)} ${o.unit}` : o.baseline;
    const met = goalMet(o);
    const status = met === undefined ? 'info' : met ? 'met' : '**MISSED**';
    rows.push(
      `| ${o.name} | ${fmt(o.value)} ${o.unit} | ${escapeCell(base)} | ${ratio === undefined ? 'n/a' : fmt(ratio)} | ${o.goal ? goalText(o.goal) : '–'} | ${status}${o.note ? ` (${escapeCell(o.note)})` : ''} |`,
    );
  }
  return rows.join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

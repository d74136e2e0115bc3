/** Label and field selectors: parsing (string form) and matching. Pure. */
import { errors } from './status.ts';

export type Obj = Record<string, any>;

// Label selectors: one copy for twin and harness, in k8s-rules/; the API server turns parse errors into 400s.
export type { Requirement, Selector } from '../../k8s-rules/labels.ts';
export { fromLabelSelectorObject, matchLabels, selectorToString } from '../../k8s-rules/labels.ts';
import {
  LabelSelectorError,
  matchRequirement,
  parseLabelSelector as parseLabels,
  type Requirement,
  type Selector,
} from '../../k8s-rules/labels.ts';

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

/** `?labelSelector=`: a parse error is a 400 Status with the parser's message. */
export function parseLabelSelector(input: string | undefined | null): Selector {
  try {
    return parseLabels(input);
  } catch (err) {
    if (err instanceof LabelSelectorError) throw errors.badRequest(err.message);
    throw err;
  }
}

/** Field selectors: `a.b=c`, `a.b==c`, `a.b!=c`, comma separated. Any dotted path is looked up; missing is "". */
export function parseFieldSelector(input: string | undefined | null): Selector {
  if (!input || !input.trim()) return [];
  return splitTopLevel(input).map((part) => {
    const m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw errors.badRequest(`invalid field selector: '${part}'`);
    return { key: m[1]!, op: m[2] === '!=' ? 'neq' : 'eq', value: (m[3] ?? '').trim() } as Requirement;
  });
}

export function fieldValue(obj: Obj, path: string): string {
  let cur: any = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = cur[seg];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function matchFields(sel: Selector, obj: Obj): boolean {
  return sel.every((r) => matchRequirement(r, (k) => fieldValue(obj, k)));
}

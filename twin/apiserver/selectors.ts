/** Label and field selectors: parsing (string form) and matching. Pure. */
import { errors } from './status.ts';

export type Obj = Record<string, any>;

export type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Selector = Requirement[];

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;

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

function checkKey(key: string, raw: string): string {
  if (!KEY.test(key)) throw errors.badRequest(`unable to parse requirement: invalid label key "${key}" in "${raw}"`);
  return key;
}

export function parseLabelSelector(input: string | undefined | null): Selector {
  if (!input || !input.trim()) return [];
  const reqs: Selector = [];
  for (const part of splitTopLevel(input)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s*\((.*)\)$/))) {
      const values = (m[3] ?? '').split(',').map((v) => v.trim()).filter((v) => v.length > 0);
      reqs.push({ key: checkKey(m[1]!, part), op: m[2] === 'in' ? 'in' : 'notin', values });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ key: checkKey(m[1]!, part), op: m[2] === '!=' ? 'neq' : 'eq', value: m[3] ?? '' });
    } else if ((m = part.match(/^([^=!<>\s]+)\s*([<>])\s*(-?\d+)$/))) {
      reqs.push({ key: checkKey(m[1]!, part), op: m[2] === '>' ? 'gt' : 'lt', value: Number(m[3]) });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: checkKey(m[1]!, part), op: 'notexists' });
    } else if ((m = part.match(/^(\S+)$/))) {
      reqs.push({ key: checkKey(m[1]!, part), op: 'exists' });
    } else {
      throw errors.badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  return reqs;
}

function matchOne(r: Requirement, get: (key: string) => string | undefined): boolean {
  const v = get(r.key);
  switch (r.op) {
    case 'exists':
      return v !== undefined;
    case 'notexists':
      return v === undefined;
    case 'eq':
      return v === r.value;
    case 'neq':
      return v !== r.value;
    case 'in':
      return v !== undefined && r.values.includes(v);
    case 'notin':
      return v === undefined || !r.values.includes(v);
    case 'gt':
      return v !== undefined && Number(v) > r.value;
    case 'lt':
      return v !== undefined && Number(v) < r.value;
  }
}

export function matchLabels(sel: Selector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => matchOne(r, (k) => (Object.prototype.hasOwnProperty.call(l, k) ? l[k] : undefined)));
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
  return sel.every((r) => matchOne(r, (k) => fieldValue(obj, k)));
}

/** A structured `LabelSelector` (matchLabels + matchExpressions) as requirements. */
export function fromLabelSelectorObject(ls: Obj | undefined | null): Selector {
  if (!ls) return [];
  const reqs: Selector = [];
  for (const [key, value] of Object.entries(ls.matchLabels ?? {})) reqs.push({ key, op: 'eq', value: String(value) });
  for (const e of (ls.matchExpressions ?? []) as Obj[]) {
    const key = String(e.key);
    const values = ((e.values ?? []) as unknown[]).map(String);
    switch (e.operator) {
      case 'In':
        reqs.push({ key, op: 'in', values });
        break;
      case 'NotIn':
        reqs.push({ key, op: 'notin', values });
        break;
      case 'Exists':
        reqs.push({ key, op: 'exists' });
        break;
      case 'DoesNotExist':
        reqs.push({ key, op: 'notexists' });
        break;
    }
  }
  return reqs;
}

export function selectorToString(sel: Selector): string {
  return sel
    .map((r) => {
      switch (r.op) {
        case 'exists':
          return r.key;
        case 'notexists':
          return `!${r.key}`;
        case 'eq':
          return `${r.key}=${r.value}`;
        case 'neq':
          return `${r.key}!=${r.value}`;
        case 'in':
          return `${r.key} in (${r.values.join(',')})`;
        case 'notin':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'gt':
          return `${r.key}>${r.value}`;
        case 'lt':
          return `${r.key}<${r.value}`;
      }
    })
    .join(',');
}

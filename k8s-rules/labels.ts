/**
 * Kubernetes label selectors: the text form (`kubectl -l`, `?labelSelector=`) and the structured
 * `LabelSelector` (matchLabels + matchExpressions), parsed and matched as the real code does.
 * Real source: kubernetes/kubernetes staging/src/k8s.io/apimachinery/pkg/labels/selector.go (Parse,
 * NewRequirement, Matches) and pkg/apis/meta/v1/helpers.go (LabelSelectorAsSelector), v1.32. Pure; one copy
 * for the twin's API server and the harness.
 */

export type Requirement =
  | { key: string; op: 'exists' | 'notexists' }
  | { key: string; op: 'eq' | 'neq'; value: string }
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'gt' | 'lt'; value: number };

export type Selector = Requirement[];

/** A selector the real parser refuses; `message` is the real error's text. */
export class LabelSelectorError extends Error {
  override name = 'LabelSelectorError';
}

// validation.IsQualifiedName (key) and IsValidLabelValue: DNS-1123 subdomain prefix, name of at most 63.
const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/** Splits on commas that are not inside `( )`. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms.map((t) => t.trim());
}

function key(k: string, term: string): string {
  if (!KEY.test(k) || (k.includes('/') && k.split('/')[0]!.length > 253)) {
    throw new LabelSelectorError(`unable to parse requirement: invalid label key "${k}" in "${term}"`);
  }
  return k;
}

function value(v: string, term: string): string {
  if (!VALUE.test(v)) throw new LabelSelectorError(`unable to parse requirement: invalid label value: "${v}" in "${term}"`);
  return v;
}

function parseTerm(term: string): Requirement {
  let m: RegExpExecArray | null;
  if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term))) {
    const values = m[3]!.split(',').map((v) => value(v.trim(), term));
    if (values.length === 0)
      throw new LabelSelectorError(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty`);
    return { key: key(m[1]!, term), op: m[2] === 'in' ? 'in' : 'notin', values };
  }
  if ((m = /^([^=!<>\s()]+)\s*(==|=|!=)\s*(\S*)$/.exec(term))) {
    return { key: key(m[1]!, term), op: m[2] === '!=' ? 'neq' : 'eq', value: value(m[3]!, term) };
  }
  if ((m = /^([^=!<>\s()]+)\s*([<>])\s*(\S+)$/.exec(term))) {
    if (!/^-?\d+$/.test(m[3]!))
      throw new LabelSelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
    return { key: key(m[1]!, term), op: m[2] === '>' ? 'gt' : 'lt', value: Number(m[3]) };
  }
  if ((m = /^!\s*([^=!<>\s()]+)$/.exec(term))) return { key: key(m[1]!, term), op: 'notexists' };
  if ((m = /^([^=!<>\s()]+)$/.exec(term))) return { key: key(m[1]!, term), op: 'exists' };
  throw new LabelSelectorError(`unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, gt, lt`);
}

/** Parses the text form; the empty selector matches everything. Throws LabelSelectorError. */
export function parseLabelSelector(text: string | undefined | null): Selector {
  if (!text || text.trim() === '') return [];
  return splitTerms(text).map((term) => {
    if (term === '') throw new LabelSelectorError(`unable to parse requirement: found '', expected: identifier`);
    return parseTerm(term);
  });
}

/** The parser's message for an invalid selector, or undefined when it is valid. */
export function labelSelectorProblem(text: string): string | undefined {
  try {
    parseLabelSelector(text);
    return undefined;
  } catch (err) {
    if (err instanceof LabelSelectorError) return err.message;
    throw err;
  }
}

/** Whether one requirement holds for a value lookup (labels or fields). */
export function matchRequirement(r: Requirement, get: (key: string) => string | undefined): boolean {
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
      return v !== undefined && /^-?\d+$/.test(v) && Number(v) > r.value;
    case 'lt':
      return v !== undefined && /^-?\d+$/.test(v) && Number(v) < r.value;
  }
}

/** Whether a label set satisfies every requirement. */
export function matchLabels(sel: readonly Requirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return sel.every((r) => matchRequirement(r, (k) => (Object.hasOwn(l, k) ? l[k] : undefined)));
}

/** A structured LabelSelector as requirements (LabelSelectorAsSelector); an unknown operator is an error. */
export function fromLabelSelectorObject(
  ls:
    | { matchLabels?: Record<string, unknown>; matchExpressions?: { key?: unknown; operator?: unknown; values?: unknown[] }[] }
    | undefined
    | null,
): Selector {
  if (!ls) return [];
  const reqs: Selector = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) reqs.push({ key: k, op: 'eq', value: String(v) });
  for (const e of ls.matchExpressions ?? []) {
    const k = String(e.key);
    const values = (e.values ?? []).map(String);
    switch (e.operator) {
      case 'In':
        reqs.push({ key: k, op: 'in', values });
        break;
      case 'NotIn':
        reqs.push({ key: k, op: 'notin', values });
        break;
      case 'Exists':
        reqs.push({ key: k, op: 'exists' });
        break;
      case 'DoesNotExist':
        reqs.push({ key: k, op: 'notexists' });
        break;
      default:
        throw new LabelSelectorError(`"${String(e.operator)}" is not a valid label selector operator`);
    }
  }
  return reqs;
}

/** The text form of a selector (what `kubectl -l` would take). */
export function selectorToString(sel: readonly Requirement[]): string {
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

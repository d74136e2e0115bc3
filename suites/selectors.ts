/**
 * Kubernetes label selectors in the text form `kubectl -l` takes:
 * `app=vllm-p2p-test,role=decode`, `role!=proxy`, `tier in (a,b)`, `env notin (x)`, `gpu`, `!gpu`.
 */

export type LabelRequirement =
  | { key: string; op: 'In' | 'NotIn'; values: string[] }
  | { key: string; op: 'Exists' | 'DoesNotExist' };

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

function parseTerm(term: string): LabelRequirement {
  const set = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(term);
  if (set) {
    const values = set[3]!.split(',').map((v) => v.trim());
    checkKey(set[1]!);
    values.forEach(checkValue);
    return { key: set[1]!, op: set[2] === 'in' ? 'In' : 'NotIn', values };
  }
  const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (eq) {
    checkKey(eq[1]!);
    checkValue(eq[3]!);
    return { key: eq[1]!, op: eq[2] === '!=' ? 'NotIn' : 'In', values: [eq[3]!] };
  }
  if (/[=!()]/.test(term.slice(1)) || /\s/.test(term.replace(/^!\s*/, ''))) throw new Error(`invalid label selector term "${term}"`);
  if (term.startsWith('!')) {
    checkKey(term.slice(1).trim());
    return { key: term.slice(1).trim(), op: 'DoesNotExist' };
  }
  checkKey(term);
  return { key: term, op: 'Exists' };
}

function checkKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`invalid label key "${key}"`);
}

function checkValue(value: string): void {
  if (!VALUE.test(value)) throw new Error(`invalid label value "${value}"`);
}

/** Parses a label selector; throws a one-line error naming the bad part. The empty selector matches everything. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  if (text.trim() === '') return [];
  return splitTerms(text).map((term) => {
    if (term === '') throw new Error('empty term in label selector');
    return parseTerm(term);
  });
}

/** The error message for an invalid selector, or undefined when it is valid. */
export function labelSelectorProblem(text: string): string | undefined {
  try {
    parseLabelSelector(text);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether a label set satisfies every requirement. */
export function matchesLabels(requirements: readonly LabelRequirement[], labels: Readonly<Record<string, string>>): boolean {
  return requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    switch (r.op) {
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'In':
        return has && r.values.includes(labels[r.key]!);
      case 'NotIn':
        return !has || !r.values.includes(labels[r.key]!);
    }
  });
}

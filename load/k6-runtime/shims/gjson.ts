import { Unsupported } from './state.ts';

/**
 * The GJSON path subset of k6's `Response.json(selector)` (js/modules/k6/http/response.go uses
 * github.com/tidwall/gjson; https://github.com/tidwall/gjson/blob/master/SYNTAX.md): `a.b.c`, array
 * indexes `a.0.b`, `#` (array length) and `a.#.b` (the field of every element), `*` / `?` wildcards in keys,
 * `\.` escapes. Queries `#(...)`, modifiers `@...`, pipes `|` and multipaths throw at first use.
 */
export function splitPath(path: string): string[] {
  if (/[|]|^@|\.@|#\(|^\[|^\{/.test(path))
    throw new Unsupported(
      `Response.json selector '${path}' (GJSON queries, modifiers, pipes and multipaths)`,
      'Response.json(), GJSON syntax',
    );
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '\\' && i + 1 < path.length) {
      cur += `\u0000${path[++i]}`;
    } else if (c === '.') {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

function keyMatches(pattern: string, key: string): boolean {
  if (!/[*?]/.test(pattern.replace(/\u0000./g, ''))) return pattern.replace(/\u0000/g, '') === key;
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '\u0000') re += (pattern[++i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's').test(key);
}

const NONE = Symbol('none');

function walk(v: unknown, parts: string[]): unknown {
  if (parts.length === 0) return v;
  const [p = '', ...rest] = parts;
  if (p === '#') {
    if (!Array.isArray(v)) return NONE;
    if (rest.length === 0) return v.length;
    return v.map((el) => walk(el, rest)).filter((x) => x !== NONE);
  }
  if (Array.isArray(v)) {
    if (!/^\d+$/.test(p)) return NONE;
    const i = Number(p);
    return i < v.length ? walk(v[i], rest) : NONE;
  }
  if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (keyMatches(p, k)) return walk(x, rest);
  }
  return NONE;
}

/** gjson.Get(body, path).Value(), or undefined when the path does not exist (k6 returns undefined then). */
export function gjsonGet(doc: unknown, path: string): unknown {
  const r = walk(doc, splitPath(path));
  return r === NONE ? undefined : r;
}

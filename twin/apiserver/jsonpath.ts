/** The small JSONPath subset CRD printer columns use: `.a.b`, `.a[0]`, `.a[*].b`, `.a[?(@.k=="v")].b`. Pure. */

export function evalJsonPath(obj: unknown, path: string): unknown[] {
  const tokens =
    path
      .trim()
      .replace(/^\{|\}$/g, '')
      .replace(/^\$/, '')
      .match(/\.[^.[\]]+|\[[^\]]*\]/g) ?? [];
  let cur: unknown[] = [obj];
  for (const tok of tokens) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || v === undefined) continue;
      if (tok.startsWith('.')) {
        const k = tok.slice(1);
        if (typeof v === 'object' && !Array.isArray(v) && k in (v as object)) next.push((v as Record<string, unknown>)[k]);
        continue;
      }
      const inner = tok.slice(1, -1).trim();
      if (!Array.isArray(v)) continue;
      if (inner === '*') next.push(...v);
      else if (/^-?\d+$/.test(inner)) {
        const i = Number(inner);
        const el = v[i < 0 ? v.length + i : i];
        if (el !== undefined) next.push(el);
      } else {
        const m = inner.match(/^\?\(@\.([\w.-]+)\s*(==|!=)\s*["']?([^"']*)["']?\)$/);
        if (!m) continue;
        for (const el of v) {
          const got = evalJsonPath(el, `.${m[1]}`)[0];
          const eq = String(got) === m[3];
          if ((m[2] === '==') === eq) next.push(el);
        }
      }
    }
    cur = next;
  }
  return cur.filter((v) => v !== undefined);
}

/**
 * Server-side apply, simplified:
 * - Each Apply manager owns the leaf fields of the configuration it last applied (recorded in its
 *   `managedFields` entry as FieldsV1). Lists with a known merge key are owned per element
 *   (`k:{"name":"x"}`); other lists are owned as a whole. Update (non-apply) writers own nothing.
 * - Applying merges the config into the live object (maps recursively, keyed lists by key, other
 *   lists replaced), removes fields this manager owned before but no longer applies (unless another
 *   manager owns them too), and reports conflicts with other Apply managers whose field values differ
 *   (409, or taken over with force=true).
 */
import type { Api } from './api.ts';
import { nowTimestamp } from './api.ts';
import { mergeKeyFor } from './patch.ts';
import type { ResourceType } from './resources.ts';
import type { Obj } from './selectors.ts';
import { ApiError, errors } from './status.ts';

type Path = string[];
const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const IGNORED_TOP = new Set(['apiVersion', 'kind']);
const IGNORED_META = new Set(['name', 'namespace', 'resourceVersion', 'uid', 'creationTimestamp', 'managedFields', 'generation']);

export function leafPaths(obj: Obj): Path[] {
  const out: Path[] = [];
  const walk = (v: unknown, path: Path, field: string) => {
    if (isMap(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) {
        if (path.length === 0 && IGNORED_TOP.has(k)) continue;
        if (path.length === 1 && path[0] === 'f:metadata' && IGNORED_META.has(k)) continue;
        walk(x, [...path, `f:${k}`], k);
      }
      return;
    }
    if (Array.isArray(v) && v.length > 0) {
      const key = mergeKeyFor(field, v);
      if (key && v.every((e) => isMap(e) && e[key] !== undefined)) {
        for (const e of v as Obj[]) {
          const elPath = [...path, `k:${JSON.stringify({ [key]: e[key] })}`];
          const rest = { ...e };
          delete rest[key];
          if (Object.keys(rest).length === 0) out.push(elPath);
          else walk(rest, elPath, '');
          out.push([...elPath, `f:${key}`]);
        }
        return;
      }
    }
    out.push(path);
  };
  walk(obj, [], '');
  return out;
}

export function pathsToFieldsV1(paths: Path[]): Obj {
  const root: Obj = {};
  for (const p of paths) {
    let cur = root;
    for (const seg of p) cur = cur[seg] ??= {};
  }
  return root;
}

export function fieldsV1ToPaths(f: Obj | undefined): Path[] {
  const out: Path[] = [];
  const walk = (node: Obj, path: Path) => {
    const keys = Object.keys(node).filter((k) => k !== '.');
    if (keys.length === 0 && path.length) out.push(path);
    for (const k of keys) walk(node[k] ?? {}, [...path, k]);
  };
  if (f) walk(f, []);
  return out;
}

/** The value at a field path, or undefined. */
export function valueAt(obj: unknown, path: Path): unknown {
  let cur: unknown = obj;
  for (const seg of path) {
    if (seg.startsWith('f:')) {
      if (!isMap(cur)) return undefined;
      cur = cur[seg.slice(2)];
    } else if (seg.startsWith('k:')) {
      if (!Array.isArray(cur)) return undefined;
      const want = JSON.parse(seg.slice(2)) as Obj;
      cur = cur.find((e) => isMap(e) && Object.entries(want).every(([k, v]) => e[k] === v));
    } else return undefined;
  }
  return cur;
}

function removeAt(obj: Obj, path: Path): void {
  if (path.length === 0) return;
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (last.startsWith('f:') && isMap(parent)) delete parent[last.slice(2)];
  else if (last.startsWith('k:') && Array.isArray(parent)) {
    const want = JSON.parse(last.slice(2)) as Obj;
    const i = parent.findIndex((e) => isMap(e) && Object.entries(want).every(([k, v]) => e[k] === v));
    if (i >= 0) parent.splice(i, 1);
  }
}

/** Merges an applied configuration into the live object. */
export function mergeApplied(live: unknown, applied: unknown, field = ''): unknown {
  if (isMap(applied)) {
    const out: Obj = isMap(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) out[k] = v === null ? undefined : mergeApplied(out[k], v, k);
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const key = mergeKeyFor(field, [...applied, ...live]);
    if (key && applied.every((e) => isMap(e) && e[key] !== undefined)) {
      const out = live.map((e) => structuredClone(e));
      for (const a of applied as Obj[]) {
        const i = out.findIndex((e) => isMap(e) && e[key] === a[key]);
        if (i >= 0) out[i] = mergeApplied(out[i], a, '');
        else out.push(structuredClone(a));
      }
      return out;
    }
  }
  return structuredClone(applied);
}

export interface ApplyOptions {
  fieldManager: string;
  force: boolean;
  subresource?: 'status';
  dryRun?: boolean;
}

export function serverSideApply(api: Api, t: ResourceType, ns: string | undefined, name: string, body: unknown, opts: ApplyOptions): Obj {
  if (!opts.fieldManager) throw errors.badRequest('PATCH, fieldManager is required for apply requests');
  if (!isMap(body)) throw errors.badRequest('apply patch must be an object');
  const applied = structuredClone(body);
  applied.metadata = isMap(applied.metadata) ? applied.metadata : {};
  if (applied.metadata.name && applied.metadata.name !== name)
    throw errors.badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${name})`);
  applied.metadata.name = name;
  if (!applied.apiVersion || !applied.kind) throw errors.badRequest('apiVersion and kind must be set in an apply configuration');
  const paths = leafPaths(applied);
  const entry = (): Obj => ({
    manager: opts.fieldManager,
    operation: 'Apply',
    apiVersion: applied.apiVersion,
    time: nowTimestamp(),
    fieldsType: 'FieldsV1',
    fieldsV1: pathsToFieldsV1(paths),
  });

  const cur = api.tryGet(t, ns, name);
  if (!cur) {
    if (opts.subresource === 'status') throw errors.notFound(t.group, t.plural, name);
    const toCreate = structuredClone(applied);
    toCreate.metadata.managedFields = [entry()];
    return api.create(t, ns, toCreate, { ...(opts.dryRun ? { dryRun: true } : {}), keepStatus: false });
  }

  const managers = (cur.metadata.managedFields ?? []) as Obj[];
  const mine = managers.find((m) => m.manager === opts.fieldManager && m.operation === 'Apply');
  const others = managers.filter((m) => m !== mine);
  const key = (p: Path) => JSON.stringify(p);
  const newSet = new Set(paths.map(key));

  const conflicts: Array<{ manager: string; path: Path }> = [];
  for (const m of others) {
    if (m.operation !== 'Apply') continue;
    const owned = fieldsV1ToPaths(m.fieldsV1);
    for (const p of owned) {
      if (!newSet.has(key(p))) continue;
      if (JSON.stringify(valueAt(cur, p)) !== JSON.stringify(valueAt(applied, p))) conflicts.push({ manager: String(m.manager), path: p });
    }
  }
  const fmt = (p: Path) => p.map((s) => (s.startsWith('f:') ? `.${s.slice(2)}` : `[${s.slice(2)}]`)).join('');
  if (conflicts.length && !opts.force) {
    const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}"`, field: fmt(c.path) }));
    throw new ApiError(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict${conflicts.length > 1 ? 's' : ''}: ${causes.map((c) => `${c.message}: ${c.field}`).join('\n')}`,
      {
        name,
        group: t.group,
        kind: t.plural,
        causes,
      },
    );
  }
  // Forced: the others lose the fields taken over.
  const othersAfter = others.map((m) => {
    if (m.operation !== 'Apply' || !conflicts.some((c) => c.manager === m.manager)) return m;
    const keep = fieldsV1ToPaths(m.fieldsV1).filter((p) => !newSet.has(key(p)));
    return { ...m, fieldsV1: pathsToFieldsV1(keep) };
  });

  let next = mergeApplied(cur, applied) as Obj;
  const ownedByOthers = new Set(othersAfter.flatMap((m) => fieldsV1ToPaths(m.fieldsV1)).map(key));
  const removable = (p: Path) =>
    !newSet.has(key(p)) && !ownedByOthers.has(key(p)) && (p[0] !== 'f:metadata' || p[1] === 'f:labels' || p[1] === 'f:annotations');
  for (const p of fieldsV1ToPaths(mine?.fieldsV1)) if (removable(p)) removeAt(next, p);
  next = structuredClone(next);
  next.metadata.resourceVersion = applied.metadata.resourceVersion ?? cur.metadata.resourceVersion;
  next.metadata.managedFields = [...othersAfter, entry()];
  return api.update(t, ns, name, next, {
    ...(opts.subresource ? { subresource: opts.subresource } : {}),
    ...(opts.dryRun ? { dryRun: true } : {}),
  });
}

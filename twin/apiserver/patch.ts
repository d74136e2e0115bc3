/** JSON merge patch (RFC 7386), strategic merge patch (the subset kubectl sends) and JSON patch. Pure. */
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { errors } from './status.ts';

type Json = any;

const isMap = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const clone = <T>(v: T): T => (v === undefined ? v : structuredClone(v));

export function jsonMergePatch(target: Json, patch: Json): Json {
  if (!isMap(patch)) return clone(patch);
  const out: Record<string, Json> = isMap(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = jsonMergePatch(out[k], v);
  }
  return out;
}

export function applyJsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw errors.badRequest('json patch must be an array of operations');
  const doc = clone(target);
  try {
    return fastJsonPatch.applyPatch(doc, ops as Operation[], true, true).newDocument;
  } catch (e) {
    const name = (e as { name?: string }).name ?? '';
    const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
    if (name === 'TEST_OPERATION_FAILED')
      throw errors.unprocessable(`the server rejected our request due to an error in our request: test operation failed`);
    throw errors.unprocessable(`the server rejected our request due to an error in our request: ${msg}`);
  }
}

/**
 * Patch merge keys of the lists kubectl and controllers merge. Keyed by field name; `ports` is special:
 * container ports merge by containerPort, service ports by port.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  containerStatuses: 'name',
  initContainerStatuses: 'name',
};
/** Primitive lists merged as sets (patchStrategy: merge without a key). */
const MERGED_PRIMITIVE_LISTS = new Set(['finalizers']);

export function mergeKeyFor(field: string, sample: Json[]): string | undefined {
  if (field === 'ports') {
    const probe = sample.find(isMap);
    if (probe && 'containerPort' in probe) return 'containerPort';
    if (probe && 'port' in probe) return 'port';
    return undefined;
  }
  return MERGE_KEYS[field];
}

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

export function strategicMergePatch(original: Json, patch: Json): Json {
  if (!isMap(patch)) throw errors.badRequest('strategic merge patch must be a JSON object');
  return smpMap(isMap(original) ? original : {}, patch);
}

function smpMap(orig: Record<string, Json>, patch: Record<string, Json>): Record<string, Json> | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return stripDirectives(rest);
  }
  const out: Record<string, Json> = { ...orig };
  const orders: Record<string, Json[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith(SET_ORDER)) {
      if (Array.isArray(v)) orders[k.slice(SET_ORDER.length)] = v;
      continue;
    }
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      const drop = new Set((Array.isArray(v) ? v : []).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[field])) out[field] = (out[field] as Json[]).filter((x) => !drop.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (isMap(v)) {
      const merged = smpMap(isMap(out[k]) ? out[k] : {}, v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else if (Array.isArray(v)) {
      out[k] = smpList(k, Array.isArray(out[k]) ? out[k] : [], v);
    } else {
      out[k] = v;
    }
  }
  for (const [field, order] of Object.entries(orders)) {
    if (Array.isArray(out[field])) out[field] = applyOrder(field, out[field] as Json[], order);
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}

function smpList(field: string, orig: Json[], patch: Json[]): Json[] {
  if (patch.some((e) => isMap(e) && e.$patch === 'replace')) {
    return patch.filter((e) => !(isMap(e) && e.$patch === 'replace')).map(stripDirectives);
  }
  if (MERGED_PRIMITIVE_LISTS.has(field) && patch.every((e) => !isMap(e))) {
    const out = [...orig];
    for (const e of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(e))) out.push(e);
    return out;
  }
  const key = mergeKeyFor(field, [...patch, ...orig]);
  if (!key) return patch.filter((e) => !(isMap(e) && e.$patch === 'delete')).map(stripDirectives);
  const out = orig.map(clone);
  for (const p of patch) {
    if (!isMap(p)) continue;
    const idx = out.findIndex((o) => isMap(o) && o[key] === p[key]);
    if (p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = smpMap(out[idx], p);
      if (merged === undefined) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      out.push(stripDirectives(p));
    }
  }
  return out;
}

function applyOrder(field: string, list: Json[], order: Json[]): Json[] {
  const key = mergeKeyFor(field, [...order, ...list]);
  const id = (e: Json) => JSON.stringify(key && isMap(e) ? e[key] : e);
  const rank = new Map(order.map((e, i) => [id(e), i]));
  const known = list.filter((e) => rank.has(id(e))).sort((a, b) => rank.get(id(a))! - rank.get(id(b))!);
  return [...known, ...list.filter((e) => !rank.has(id(e)))];
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isMap(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  switch (ct) {
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/json-patch+json':
      return 'json';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply';
    default:
      return undefined;
  }
}

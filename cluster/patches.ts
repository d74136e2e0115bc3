type Json = Record<string, unknown>;

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The JSON merge patch that puts back exactly the fields `patch` changes, with the values they have in
 * `current` (null where a field did not exist, which a merge patch reads as "remove").
 */
export function restorePatchFor(current: Json, patch: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(patch)) {
    const before = current[key];
    out[key] = isPlainObject(value) && isPlainObject(before) ? restorePatchFor(before, value) : (before ?? null);
  }
  return out;
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed fields with their `to` value, fields
 * only `from` has as null (remove), arrays whole. Applying it to `from` gives `to` exactly, so the restore
 * of an RFC 6902 patch is the patch from the object after it back to the object before it.
 */
export function mergePatchBetween(from: Json, to: Json): Json {
  const out: Json = {};
  for (const key of new Set([...Object.keys(from), ...Object.keys(to)])) {
    const a = from[key];
    const b = to[key];
    if (!(key in to)) out[key] = null;
    else if (isPlainObject(a) && isPlainObject(b)) {
      const sub = mergePatchBetween(a, b);
      if (Object.keys(sub).length) out[key] = sub;
    } else if (!(key in from) || JSON.stringify(a) !== JSON.stringify(b)) out[key] = b === undefined ? null : b;
  }
  return out;
}

/** JSON merge patch (RFC 7386) applied to a copy. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return patch;
  const out: Json = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

/** Fields that belong to the server and must not be sent back when re-creating or replacing an object. */
export function stripServerFields<T extends Json>(obj: T): T {
  const copy = structuredClone(obj) as Json;
  const meta = (copy.metadata ?? {}) as Json;
  for (const k of [
    'resourceVersion',
    'uid',
    'creationTimestamp',
    'managedFields',
    'generation',
    'selfLink',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'ownerReferences',
  ]) {
    delete meta[k];
  }
  delete copy.status;
  return copy as T;
}

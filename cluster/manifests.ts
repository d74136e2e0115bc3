import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from '#yaml';
import type { KubernetesObject } from '#client-node';

export interface ManifestObject extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Reads manifest files and directories (*.yaml, *.yml, *.json; directories sorted, not recursive). */
export function readManifests(paths: string[]): ManifestObject[] {
  const objects: ManifestObject[] = [];
  for (const path of paths) {
    for (const file of expand(path)) objects.push(...parseManifestFile(file));
  }
  return orderForApply(objects);
}

function expand(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

export function parseManifestFile(file: string): ManifestObject[] {
  const text = readFileSync(file, 'utf8');
  const out: ManifestObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if ('errors' in doc && doc.errors.length > 0) {
      throw new Error(`${file}: ${doc.errors[0]?.message.split('\n')[0]}`);
    }
    const value = doc.toJS() as unknown;
    if (value == null) continue;
    const items = isList(value) ? value.items : [value];
    for (const item of items) {
      const obj = item as Partial<ManifestObject>;
      if (!obj.apiVersion || !obj.kind || !obj.metadata?.name) {
        throw new Error(`${file}: a document lacks apiVersion, kind or metadata.name`);
      }
      out.push(obj as ManifestObject);
    }
  }
  return out;
}

function isList(v: unknown): v is { items: unknown[] } {
  const o = v as { kind?: string; items?: unknown };
  return typeof o?.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items);
}

const FIRST = ['CustomResourceDefinition', 'Namespace'];
const EARLY = ['ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim', 'Service'];

/** CRDs first, then namespaces, then what others refer to, then the rest in file order (as kubectl does). */
export function orderForApply<T extends { kind: string }>(objects: T[]): T[] {
  const rank = (k: string) => (FIRST.includes(k) ? FIRST.indexOf(k) : EARLY.includes(k) ? 2 : 3);
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => rank(a.o.kind) - rank(b.o.kind) || a.i - b.i)
    .map((x) => x.o);
}

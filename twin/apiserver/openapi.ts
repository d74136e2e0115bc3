/**
 * OpenAPI documents, just enough for kubectl: `/openapi/v3` lists group-versions; each group-version
 * document has the resource paths with PATCH operations tagged x-kubernetes-group-version-kind that
 * accept `fieldValidation` (so `kubectl apply` leaves validation to the server). Schemas are permissive.
 * `/openapi/v2` is an empty document (JSON, or protobuf for older kubectl whose validation requires it).
 */
import { createHash } from 'node:crypto';
import type { ResourceRegistry, ResourceType } from './resources.ts';

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

function hashOf(reg: ResourceRegistry, group: string, version: string): string {
  const names = reg
    .inGroupVersion(group, version)
    .map((t) => `${t.plural}:${t.kind}:${t.namespaced}`)
    .sort()
    .join(',');
  return createHash('sha256').update(names).digest('hex').slice(0, 32).toUpperCase();
}

export function openApiV3Index(reg: ResourceRegistry): object {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [group, versions] of reg.groups()) {
    for (const v of versions) {
      const p = gvPath(group, v);
      paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hashOf(reg, group, v)}` };
    }
  }
  return { paths };
}

const q = (name: string, description: string) => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
const WRITE_PARAMS = [
  q('dryRun', 'When present, indicates that modifications should not be persisted.'),
  q('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  q(
    'fieldValidation',
    'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
  ),
];
const ok = { '200': { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } } };

function operations(t: ResourceType, version: string, item: boolean): object {
  const gvk = { group: t.group, version, kind: t.kind };
  const op = (action: string, extra: object = {}) => ({
    operationId: `${action}${t.kind}`,
    responses: ok,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk,
    ...extra,
  });
  if (!item) return { get: op('list'), post: op('post', { parameters: WRITE_PARAMS }), delete: op('deletecollection') };
  return {
    get: op('get'),
    put: op('put', { parameters: WRITE_PARAMS }),
    patch: op('patch', { parameters: [...WRITE_PARAMS, q('force', 'Force is going to "force" Apply requests.')] }),
    delete: op('delete'),
  };
}

export function openApiV3Doc(reg: ResourceRegistry, group: string, version: string): object | undefined {
  const types = reg.inGroupVersion(group, version);
  if (!types.length) return undefined;
  const base = `/${gvPath(group, version)}`;
  const paths: Record<string, object> = {};
  const pathParam = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string', uniqueItems: true } });
  for (const t of types) {
    const coll = t.namespaced ? `${base}/namespaces/{namespace}/${t.plural}` : `${base}/${t.plural}`;
    const nsParams = t.namespaced ? [pathParam('namespace')] : [];
    paths[coll] = { ...operations(t, version, false), parameters: nsParams };
    paths[`${coll}/{name}`] = { ...operations(t, version, true), parameters: [pathParam('name'), ...nsParams] };
    if (t.status) paths[`${coll}/{name}/status`] = { ...operations(t, version, true), parameters: [pathParam('name'), ...nsParams] };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } };
}

export const OPENAPI_V2_JSON = { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths: {}, definitions: {} };

/** gnostic openapi_v2.Document with swagger="2.0" and info{title, version}, in protobuf wire format. */
export function openApiV2Protobuf(): Buffer {
  const str = (field: number, s: string) => {
    const b = Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
  };
  const info = Buffer.concat([str(1, 'Kubernetes'), str(2, 'v1.32.0')]);
  return Buffer.concat([str(1, '2.0'), Buffer.from([(2 << 3) | 2, info.length]), info]);
}

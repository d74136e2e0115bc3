/** Discovery documents: /version, /api, /apis, /apis/G, /api/v1, /apis/G/V. */
import { AUTHZ_GROUP, AUTHZ_VERSION, SSAR_RESOURCE } from './authorization.ts';
import type { ResourceRegistry, ResourceType } from './resources.ts';
import { VERBS } from './resources.ts';

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.4',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(name: string, versions: string[]): object {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(reg: ResourceRegistry): object {
  const groups = [...reg.groups().entries()].filter(([g]) => g !== '' && g !== AUTHZ_GROUP).map(([g, vs]) => apiGroup(g, vs));
  groups.push(apiGroup(AUTHZ_GROUP, [AUTHZ_VERSION])); // served by authorization.ts, not the object store
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroupDoc(reg: ResourceRegistry, group: string): object | undefined {
  const vs = group === AUTHZ_GROUP ? [AUTHZ_VERSION] : reg.groups().get(group);
  return vs && group ? { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, vs) } : undefined;
}

function resourceEntries(t: ResourceType): object[] {
  const verbs = t.plural === 'namespaces' ? VERBS.filter((v) => v !== 'deletecollection') : VERBS;
  const out: object[] = [
    {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs,
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories?.length ? { categories: t.categories } : {}),
    },
  ];
  const sub = (name: string, kind: string, verbs: string[], extra: object = {}) =>
    out.push({ name: `${t.plural}/${name}`, singularName: '', namespaced: t.namespaced, kind, verbs, ...extra });
  if (t.status) sub('status', t.kind, ['get', 'patch', 'update']);
  if (t.scale) sub('scale', 'Scale', ['get', 'patch', 'update'], { group: 'autoscaling', version: 'v1' });
  for (const s of t.extraSubresources ?? []) {
    if (s === 'log') sub('log', 'Pod', ['get']);
    if (s === 'binding') sub('binding', 'Binding', ['create']);
    if (s === 'exec') sub('exec', 'PodExecOptions', ['create', 'get']);
  }
  return out;
}

export function apiResourceList(reg: ResourceRegistry, group: string, version: string): object | undefined {
  if (group === AUTHZ_GROUP && version === AUTHZ_VERSION) {
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: `${AUTHZ_GROUP}/${AUTHZ_VERSION}`, resources: [SSAR_RESOURCE] };
  }
  const types = reg.inGroupVersion(group, version);
  if (!types.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: types.flatMap(resourceEntries),
  };
}

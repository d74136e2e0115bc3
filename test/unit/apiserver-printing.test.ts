import { expect, test } from '@playwright/test';
import { apiResourceList } from '../../twin/apiserver/discovery.ts';
import { openApiV3Doc, openApiV3Index } from '../../twin/apiserver/openapi.ts';
import { ResourceRegistry } from '../../twin/apiserver/resources.ts';
import { humanDuration, podStatusReason, toTable } from '../../twin/apiserver/tables.ts';
import { filterLines, parseCriLog } from '../../twin/apiserver/logs.ts';
import { decodeK8sProtobuf } from '../../twin/apiserver/protobuf.ts';

test('OpenAPI v3: index paths and PATCH operations with GVK and fieldValidation (what kubectl apply checks)', () => {
  const reg = new ResourceRegistry();
  const index = openApiV3Index(reg) as { paths: Record<string, { serverRelativeURL: string }> };
  expect(index.paths['api/v1']!.serverRelativeURL).toMatch(/^\/openapi\/v3\/api\/v1\?hash=/);
  expect(index.paths['apis/apps/v1']).toBeTruthy();
  const doc = openApiV3Doc(reg, 'apps', 'v1') as { paths: Record<string, Record<string, any>> };
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']!.patch;
  expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: 'apps', version: 'v1', kind: 'Deployment' });
  expect(patch.parameters.map((p: { name: string }) => p.name)).toContain('fieldValidation');
  expect(openApiV3Doc(reg, 'nope', 'v1')).toBeUndefined();
});

test('discovery lists short names and subresources', () => {
  const list = apiResourceList(new ResourceRegistry(), 'apps', 'v1') as {
    resources: Array<{ name: string; shortNames?: string[]; kind: string }>;
  };
  const names = list.resources.map((r) => r.name);
  expect(names).toEqual(expect.arrayContaining(['deployments', 'deployments/status', 'deployments/scale', 'replicasets/scale']));
  expect(list.resources.find((r) => r.name === 'deployments')!.shortNames).toEqual(['deploy']);
  expect(list.resources.find((r) => r.name === 'deployments/scale')!.kind).toBe('Scale');
  const core = apiResourceList(new ResourceRegistry(), '', 'v1') as { resources: Array<{ name: string }> };
  expect(core.resources.map((r) => r.name)).toEqual(expect.arrayContaining(['pods/log', 'pods/status', 'pods/binding']));
});

test('kubectl-style ages and pod STATUS', () => {
  expect(humanDuration(5_000)).toBe('5s');
  expect(humanDuration(150_000)).toBe('2m30s');
  expect(humanDuration(30 * 60_000)).toBe('30m');
  expect(humanDuration(5 * 3600_000)).toBe('5h');
  expect(humanDuration(3 * 86400_000)).toBe('3d');
  expect(
    podStatusReason({ metadata: {}, status: { phase: 'Running', containerStatuses: [{ ready: true, state: { running: {} } }] } }),
  ).toBe('Running');
  expect(
    podStatusReason({
      metadata: {},
      status: { phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ImagePullBackOff' } } }] },
    }),
  ).toBe('ImagePullBackOff');
  expect(
    podStatusReason({
      metadata: {},
      status: { phase: 'Running', containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
    }),
  ).toBe('CrashLoopBackOff');
  expect(podStatusReason({ metadata: { deletionTimestamp: 'x' }, status: { phase: 'Running' } })).toBe('Terminating');
});

test('pod table rows: READY, STATUS, RESTARTS, wide IP/NODE columns', () => {
  const reg = new ResourceRegistry();
  const pods = reg.get('', 'pods')!;
  const pod = {
    metadata: { name: 'p', creationTimestamp: new Date().toISOString() },
    spec: { nodeName: 'worker-a', containers: [{ name: 'a' }, { name: 'b' }] },
    status: {
      phase: 'Running',
      podIP: '127.0.0.9',
      containerStatuses: [
        { name: 'a', ready: true, restartCount: 0, state: { running: {} } },
        { name: 'b', ready: false, restartCount: 0, state: { running: {} } },
      ],
    },
  };
  const table = toTable(pods, [pod], '5', undefined) as {
    columnDefinitions: Array<{ name: string; priority: number }>;
    rows: Array<{ cells: unknown[] }>;
  };
  expect(table.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual([
    'Name',
    'Ready',
    'Status',
    'Restarts',
    'Age',
  ]);
  expect(table.rows[0]!.cells.slice(0, 4)).toEqual(['p', '1/2', 'Running', 0]);
  expect(table.rows[0]!.cells.slice(5, 7)).toEqual(['127.0.0.9', 'worker-a']);
});

test('CRI log parsing joins partial lines; since filters by timestamp', () => {
  const { lines, rest } = parseCriLog(
    '2026-01-01T00:00:00Z stdout P a\n2026-01-01T00:00:00Z stdout F b\n2026-01-01T00:00:05Z stderr F c\n2026-01-01T00:00:06Z stdout F incompl',
  );
  expect(lines.map((l) => l.text)).toEqual(['ab', 'c']);
  expect(rest).toBe('2026-01-01T00:00:06Z stdout F incompl');
  expect(filterLines(lines, { sinceTime: '2026-01-01T00:00:03Z' }).map((l) => l.text)).toEqual(['c']);
  expect(filterLines(lines, { tailLines: 0 })).toEqual([]);
});

test('protobuf request bodies decode for ConfigMaps (kubectl create configmap)', () => {
  // k8s\0 + Unknown{typeMeta{apiVersion:"v1", kind:"ConfigMap"}, raw: ConfigMap{metadata{name:"c"}, data{"a":"b"}}}
  const ld = (field: number, b: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
  const str = (field: number, s: string) => ld(field, Buffer.from(s));
  const raw = Buffer.concat([ld(1, str(1, 'c')), ld(2, Buffer.concat([str(1, 'a'), str(2, 'b')]))]);
  const body = Buffer.concat([Buffer.from('k8s\0', 'binary'), ld(1, Buffer.concat([str(1, 'v1'), str(2, 'ConfigMap')])), ld(2, raw)]);
  expect(decodeK8sProtobuf(body)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
  const deploy = Buffer.concat([Buffer.from('k8s\0', 'binary'), ld(1, Buffer.concat([str(1, 'apps/v1'), str(2, 'Deployment')]))]);
  expect(decodeK8sProtobuf(deploy)).toBeUndefined();
});

import { expect, test } from '@playwright/test';
import { applyJsonPatch, jsonMergePatch, strategicMergePatch } from '../../twin/apiserver/patch.ts';
import { fieldsV1ToPaths, leafPaths, mergeApplied, pathsToFieldsV1 } from '../../twin/apiserver/ssa.ts';
import { ApiError } from '../../twin/apiserver/status.ts';

const deploy = () => ({
  metadata: { name: 'd', labels: { app: 'web', old: 'x' } },
  spec: {
    replicas: 1,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'a',
            image: 'img:1',
            env: [
              { name: 'X', value: '1' },
              { name: 'Y', value: '2' },
            ],
            ports: [{ containerPort: 80 }],
          },
          { name: 'b', image: 'img:2' },
        ],
        tolerations: [{ key: 't1' }],
      },
    },
  },
});

test('JSON merge patch merges maps, null deletes, lists are replaced', () => {
  const out = jsonMergePatch(deploy(), {
    metadata: { labels: { old: null, n: 'y' } },
    spec: { replicas: 3, template: { spec: { containers: [{ name: 'c', image: 'z' }] } } },
  });
  expect(out.metadata.labels).toEqual({ app: 'web', n: 'y' });
  expect(out.spec.replicas).toBe(3);
  expect(out.spec.template.spec.containers).toEqual([{ name: 'c', image: 'z' }]);
});

test('strategic merge patch merges containers and env by name, keeps the rest', () => {
  const out = strategicMergePatch(deploy(), {
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'a',
              image: 'img:9',
              env: [
                { name: 'Y', value: '3' },
                { name: 'Z', value: '4' },
              ],
            },
          ],
        },
      },
    },
  });
  const cs = out.spec.template.spec.containers;
  expect(cs.map((c: { name: string }) => c.name)).toEqual(['a', 'b']);
  expect(cs[0].image).toBe('img:9');
  expect(cs[0].env).toEqual([
    { name: 'X', value: '1' },
    { name: 'Y', value: '3' },
    { name: 'Z', value: '4' },
  ]);
  expect(cs[0].ports).toEqual([{ containerPort: 80 }]);
});

test('strategic merge patch: rollout restart annotation lands in the template', () => {
  const out = strategicMergePatch(deploy(), {
    spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } },
  });
  expect(out.spec.template.metadata).toEqual({ labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } });
});

test('strategic merge patch directives: $patch delete/replace, $retainKeys, $deleteFromPrimitiveList, $setElementOrder, null', () => {
  const base = { ...deploy(), metadata: { ...deploy().metadata, finalizers: ['a', 'b'] } };
  const out = strategicMergePatch(base, {
    metadata: { labels: { $patch: 'replace', only: 'this' }, '$deleteFromPrimitiveList/finalizers': ['a'] },
    spec: {
      replicas: null,
      template: {
        spec: {
          containers: [{ name: 'b', $patch: 'delete' }],
          tolerations: [{ key: 't2' }],
          '$setElementOrder/containers': [{ name: 'a' }],
        },
      },
      strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } },
    },
  });
  expect(out.metadata.labels).toEqual({ only: 'this' });
  expect(out.metadata.finalizers).toEqual(['b']);
  expect(out.spec.replicas).toBeUndefined();
  expect(out.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['a']);
  expect(out.spec.template.spec.tolerations).toEqual([{ key: 't2' }]);
  expect(out.spec.strategy).toEqual({ type: 'Recreate' });
});

test('strategic merge patch: a list element {$patch: replace} replaces the whole list', () => {
  const out = strategicMergePatch(deploy(), {
    spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'i' }] } } },
  });
  expect(out.spec.template.spec.containers).toEqual([{ name: 'only', image: 'i' }]);
});

test('service ports merge by port, container ports by containerPort', () => {
  const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
  const out = strategicMergePatch(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } });
  expect(out.spec.ports).toEqual([{ port: 80, targetPort: 9090 }, { port: 443 }]);
});

test('JSON patch applies ops; a failing op is 422, a non-array is 400', () => {
  const out = applyJsonPatch(deploy(), [
    { op: 'replace', path: '/spec/replicas', value: 5 },
    { op: 'add', path: '/metadata/labels/new', value: 'v' },
    { op: 'remove', path: '/metadata/labels/old' },
  ]);
  expect(out.spec.replicas).toBe(5);
  expect(out.metadata.labels).toEqual({ app: 'web', new: 'v' });
  const codeOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof ApiError ? e.code : -1;
    }
    return 0;
  };
  expect(codeOf(() => applyJsonPatch(deploy(), [{ op: 'remove', path: '/spec/nope/x' }]))).toBe(422);
  expect(codeOf(() => applyJsonPatch(deploy(), [{ op: 'test', path: '/spec/replicas', value: 9 }]))).toBe(422);
  expect(codeOf(() => applyJsonPatch(deploy(), { op: 'add' }))).toBe(400);
});

test('server-side apply field sets round-trip and keyed lists merge per element', () => {
  const applied = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: '1' } }, data: { x: '1' } };
  const paths = leafPaths(applied);
  expect(paths).toContainEqual(['f:data', 'f:x']);
  expect(paths).toContainEqual(['f:metadata', 'f:labels', 'f:a']);
  expect(paths).not.toContainEqual(['f:metadata', 'f:name']);
  expect(fieldsV1ToPaths(pathsToFieldsV1(paths)).sort()).toEqual([...paths].sort());
  const merged = mergeApplied(deploy(), { spec: { template: { spec: { containers: [{ name: 'b', image: 'new' }] } } } }) as ReturnType<
    typeof deploy
  >;
  expect(merged.spec.template.spec.containers.map((c) => c.image)).toEqual(['img:1', 'new']);
});

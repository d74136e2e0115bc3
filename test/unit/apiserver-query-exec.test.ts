import { expect, test } from '@playwright/test';
import {
  checkLogOptions,
  checkPropagationPolicy,
  paginate,
  patchQuery,
  queryBool,
  queryInt,
  writeQuery,
} from '../../twin/apiserver/query.ts';
import { ApiError } from '../../twin/apiserver/status.ts';
import { resolveFromPod } from '../../twin/kubelet/cluster-proxy.ts';
import { exitStatus, parseExecQuery } from '../../twin/kubelet/exec.ts';

const q = (s: string) => new URLSearchParams(s);
const thrown = (fn: () => unknown): ApiError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('did not throw');
};

test('booleans decode like Convert_Slice_string_To_bool: only absent, 0 and false (any case) are false', () => {
  for (const v of ['true', 'True', 'TRUE', 't', 'T', '1', '', 'yes']) expect(queryBool(q(`watch=${v}`), 'watch'), v).toBe(true);
  for (const v of ['false', 'False', 'FALSE', '0']) expect(queryBool(q(`watch=${v}`), 'watch'), v).toBe(false);
  expect(queryBool(q(''), 'watch')).toBe(false);
});

test('integers decode like strconv.ParseInt; anything else is a 400 with Go words', () => {
  expect(queryInt(q('limit=5'), 'limit')).toBe(5);
  expect(queryInt(q('limit=-3'), 'limit')).toBe(-3);
  expect(queryInt(q(''), 'limit')).toBeUndefined();
  for (const v of ['1.5', '1e3', '0x10', 'abc']) {
    const e = thrown(() => queryInt(q(`limit=${v}`), 'limit'));
    expect(e.code).toBe(400);
    expect(e.message).toBe(`strconv.ParseInt: parsing "${v}": invalid syntax`);
  }
});

test('dryRun accepts only All; apply needs a fieldManager; force only on apply; propagationPolicy is one of three', () => {
  expect(writeQuery(q('dryRun=All&fieldManager=me'), 'CreateOptions')).toEqual({ dryRun: true, fieldManager: 'me' });
  expect(thrown(() => writeQuery(q('dryRun=Yes'), 'CreateOptions')).message).toBe(
    'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Yes"}: supported values: "All"',
  );
  expect(thrown(() => patchQuery(q(''), true)).message).toBe(
    'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
  );
  expect(thrown(() => patchQuery(q('force=true'), false)).message).toBe(
    'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch',
  );
  expect(patchQuery(q('fieldManager=kubectl&force=True'), true)).toEqual({ dryRun: false, force: true, fieldManager: 'kubectl' });
  expect(thrown(() => checkPropagationPolicy('Later')).message).toBe(
    'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "Later": supported values: "Foreground", "Background", "Orphan"',
  );
  expect(checkPropagationPolicy('Orphan')).toBe('Orphan');
});

test('pod log options are validated as PodLogOptions', () => {
  const e = thrown(() => checkLogOptions('p', { tailLines: -1, limitBytes: 0 }));
  expect(e.code).toBe(422);
  expect(e.message).toBe(
    'PodLogOptions "p" is invalid: [tailLines: Invalid value: -1: must be greater than or equal to 0, limitBytes: Invalid value: 0: must be greater than 0]',
  );
  expect(() => checkLogOptions('p', { tailLines: 0, sinceSeconds: 5 })).not.toThrow();
});

test('limit/continue pages in key order with a continue token and remainingItemCount', () => {
  const items = ['c', 'a', 'd', 'b'].map((name) => ({ metadata: { namespace: 'ns', name } }));
  const p1 = paginate(items, q('limit=3'), '42');
  expect(p1.items.map((o) => o.metadata.name)).toEqual(['a', 'b', 'c']);
  expect(p1.remainingItemCount).toBe(1);
  expect(JSON.parse(Buffer.from(p1.continue!, 'base64').toString())).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'ns/c\u0000' });
  const p2 = paginate(items, q(`limit=3&continue=${encodeURIComponent(p1.continue!)}`), '43');
  expect(p2.items.map((o) => o.metadata.name)).toEqual(['d']);
  expect(p2.continue).toBeUndefined();
  expect(thrown(() => paginate(items, q('continue=bogus'), '1')).code).toBe(400);
});

test('exec: names resolve through the pod namespace search path; localhost is the pod; only loopback is reached', () => {
  const hosts = { 'svc.ns.svc.cluster.local': ['127.5.0.9'], 'empty.ns.svc.cluster.local': [] };
  const pod = { namespace: 'ns', podIP: '127.5.0.3' };
  for (const n of ['svc', 'svc.ns', 'svc.ns.svc', 'svc.ns.svc.cluster.local', 'SVC.ns.'])
    expect(resolveFromPod(n, pod, hosts), n).toEqual({ ip: '127.5.0.9' });
  expect(resolveFromPod('svc', { ...pod, namespace: 'other' }, hosts)).toEqual({ error: 'Could not resolve host: svc' });
  expect(resolveFromPod('localhost', pod, hosts)).toEqual({ ip: '127.5.0.3' });
  expect(resolveFromPod('127.0.0.1', pod, hosts)).toEqual({ ip: '127.5.0.3' });
  expect(resolveFromPod('127.5.0.7', pod, hosts)).toEqual({ ip: '127.5.0.7' });
  expect(resolveFromPod('empty', pod, hosts)).toEqual({ ip: '127.255.255.254' });
  expect(resolveFromPod('10.0.0.1', pod, hosts)).toEqual({ error: 'the twin reaches only loopback addresses, not 10.0.0.1' });
});

test('exec: the status channel carries Success or NonZeroExitCode with an ExitCode cause (what kubectl exits with)', () => {
  expect(exitStatus(0, ['true'])).toEqual({ metadata: {}, status: 'Success' });
  expect(exitStatus(3, ['sh', '-c', 'exit 3'])).toEqual({
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
  expect(parseExecQuery(q('command=curl&command=-sS&stdout=true&stderr=1&tty=false'))).toEqual({
    command: ['curl', '-sS'],
    stdin: false,
    stdout: true,
    stderr: true,
    tty: false,
  });
});

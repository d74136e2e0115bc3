import { test, expect } from '@playwright/test';
import type { V1Pod, V1Service } from '#client-node';
import { criTimestamp, formatCriLine, parseCriLine } from '../../twin/runtime/cri-log.ts';
import { renderHosts } from '../../twin/runtime/hosts.ts';
import { resolveImage, PAUSE_PROGRAM, VLLM_PROGRAM } from '../../twin/runtime/images.ts';
import { rewriteMountedArgs, rewriteMountedPath } from '../../twin/runtime/mounts.ts';
import { parseProcStat } from '../../twin/runtime/pidfiles.ts';
import { candidateNames, rewriteListenArgs } from '../../twin/runtime/preload-lib.mjs';
import { probeTiming, resolveProbePort } from '../../twin/runtime/probes.ts';

test('CRI timestamps carry nanoseconds and lines parse back', () => {
  const ts = criTimestamp(new Date('2026-11-25T10:00:00.123Z'), 456789);
  expect(ts).toBe('2026-11-25T10:00:00.123456789Z');
  const line = formatCriLine(ts, 'stderr', 'hello world');
  expect(line).toBe('2026-11-25T10:00:00.123456789Z stderr F hello world\n');
  expect(parseCriLine(line.trimEnd())).toEqual({ timestamp: ts, stream: 'stderr', partial: false, content: 'hello world' });
  expect(parseCriLine('not a cri line')).toBeUndefined();
});

test('images map to programs; unknown images are pull errors naming the supported ones', () => {
  expect(resolveImage('registry.k8s.io/pause:3.9')).toMatchObject({ ok: true, kind: 'pause', program: PAUSE_PROGRAM });
  expect(resolveImage('vllm/vllm-openai:v0.15.0', [], ['serve', 'M', '--port=8000'])).toMatchObject({
    ok: true,
    program: VLLM_PROGRAM,
    args: ['serve', 'M', '--port=8000'],
  });
  expect(resolveImage('docker.io/vllm/vllm-openai:v0.15.0', ['vllm'], ['serve', 'M'])).toMatchObject({ ok: true, args: ['serve', 'M'] });
  expect(resolveImage('ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0', [], ['--x'])).toMatchObject({
    ok: true,
    kind: 'epp',
    args: ['--x', '--twin-image=ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0'],
  });
  expect(resolveImage('registry.k8s.io/gateway-api-inference-extension/epp:v1.2.0', [], [])).toMatchObject({
    ok: true,
    kind: 'epp',
    args: ['--twin-image=registry.k8s.io/gateway-api-inference-extension/epp:v1.2.0'],
  });
  expect(resolveImage('node:20-alpine', ['node', '/app/proxy.mjs'], ['--port', '8080'])).toMatchObject({
    ok: true,
    program: '/app/proxy.mjs',
    args: ['--port', '8080'],
  });
  expect(resolveImage('docker.io/library/node:20', ['/usr/local/bin/node'], ['/app/a.js'])).toMatchObject({
    ok: true,
    program: '/app/a.js',
    args: [],
  });
  expect(resolveImage('node:20', [], ['/app/a.js', 'x'])).toMatchObject({ ok: true, program: '/app/a.js', args: ['x'] });
  expect(resolveImage('node:20', ['sh', '-c', 'echo hi'])).toMatchObject({ ok: false, reason: 'ErrImagePull' });
  const unknown = resolveImage('quay.io/nope/nothing:1');
  expect(unknown.ok).toBe(false);
  if (!unknown.ok) {
    expect(unknown.message).toContain('quay.io/nope/nothing:1');
    expect(unknown.message).toContain('registry.k8s.io/pause');
    expect(unknown.message).toContain('vllm/vllm-openai');
  }
  // 'nodejs-thing' is not the node image
  expect(resolveImage('nodejs-thing:1').ok).toBe(false);
});

test('paths under a mountPath are rewritten to the host directory', () => {
  const mounts = { '/app': '/host/cm', '/app/data': '/host/data', '/kv_cache': '/host/kv' };
  expect(rewriteMountedPath('/app/proxy.mjs', mounts)).toBe('/host/cm/proxy.mjs');
  expect(rewriteMountedPath('/app/data/x', mounts)).toBe('/host/data/x');
  expect(rewriteMountedPath('/kv_cache', mounts)).toBe('/host/kv');
  expect(rewriteMountedPath('/application', mounts)).toBe('/application');
  expect(rewriteMountedArgs(['/app/a.js', '--dir=/kv_cache/p', 'plain', '--x', '/etc/hosts'], mounts)).toEqual([
    '/host/cm/a.js',
    '--dir=/host/kv/p',
    'plain',
    '--x',
    '/etc/hosts',
  ]);
});

test('/proc/PID/stat parsing survives spaces and parentheses in the command name', () => {
  const line =
    '1234 (my (weird) prog) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
  expect(parseProcStat(line)).toEqual({ state: 'S', ppid: 1, pgrp: 1234, utime: 1, stime: 2, startTime: 987654 });
  expect(parseProcStat('garbage')).toBeUndefined();
});

test('listen() arguments: wildcard or missing host becomes the pod IP, explicit hosts and pipes stay', () => {
  const ip = '127.9.0.2';
  const cb = () => undefined;
  expect(rewriteListenArgs([8000], ip)).toEqual([8000, ip]);
  expect(rewriteListenArgs([8000, cb], ip)).toEqual([8000, ip, cb]);
  expect(rewriteListenArgs([8000, '0.0.0.0', cb], ip)).toEqual([8000, ip, cb]);
  expect(rewriteListenArgs([8000, '::', 511, cb], ip)).toEqual([8000, ip, 511, cb]);
  expect(rewriteListenArgs([8000, '127.0.0.1'], ip)).toEqual([8000, '127.0.0.1']);
  expect(rewriteListenArgs(['8000'], ip)).toEqual(['8000', ip]);
  expect(rewriteListenArgs([{ port: 8000 }, cb], ip)).toEqual([{ port: 8000, host: ip }, cb]);
  expect(rewriteListenArgs([{ port: 8000, host: '0.0.0.0' }], ip)).toEqual([{ port: 8000, host: ip }]);
  expect(rewriteListenArgs([{ path: '/tmp/sock' }], ip)).toEqual([{ path: '/tmp/sock' }]);
  expect(rewriteListenArgs(['/tmp/sock'], ip)).toEqual(['/tmp/sock']);
  expect(rewriteListenArgs([cb], ip)).toEqual([0, ip, cb]);
  expect(rewriteListenArgs([], ip)).toEqual([0, ip]);
});

test('service names expand like a pod resolver search path', () => {
  expect(candidateNames('web', 'ns1')).toEqual(['web', 'web.ns1.svc.cluster.local']);
  expect(candidateNames('web.ns2', 'ns1')).toEqual(['web.ns2', 'web.ns2.svc.cluster.local']);
  expect(candidateNames('web.ns2.svc', 'ns1')).toEqual(['web.ns2.svc', 'web.ns2.svc.cluster.local']);
  expect(candidateNames('Web.NS2.svc.cluster.local.', 'ns1')).toEqual(['web.ns2.svc.cluster.local']);
});

function pod(name: string, ns: string, labels: Record<string, string>, ip: string, ready: boolean, deleting = false): V1Pod {
  return {
    metadata: { name, namespace: ns, labels, ...(deleting ? { deletionTimestamp: new Date() } : {}) },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

test('renderHosts: ready selected pods per Service, ExternalName follows its target', () => {
  const services: V1Service[] = [
    { metadata: { name: 'web', namespace: 'a' }, spec: { selector: { app: 'web' } } },
    { metadata: { name: 'empty', namespace: 'a' }, spec: { selector: { app: 'none' } } },
    { metadata: { name: 'noselector', namespace: 'a' }, spec: {} },
    { metadata: { name: 'epp', namespace: 'b' }, spec: { type: 'ExternalName', externalName: 'web.a.svc.cluster.local' } },
    { metadata: { name: 'ip', namespace: 'b' }, spec: { type: 'ExternalName', externalName: '127.0.3.4' } },
  ];
  const pods = [
    pod('w2', 'a', { app: 'web' }, '127.0.0.10', true),
    pod('w1', 'a', { app: 'web' }, '127.0.0.9', true),
    pod('w3', 'a', { app: 'web' }, '127.0.0.11', false),
    pod('w4', 'a', { app: 'web' }, '127.0.0.12', true, true),
    pod('other-ns', 'b', { app: 'web' }, '127.0.0.13', true),
  ];
  expect(renderHosts(services, pods)).toEqual({
    'web.a.svc.cluster.local': ['127.0.0.9', '127.0.0.10'],
    'empty.a.svc.cluster.local': [],
    'epp.b.svc.cluster.local': ['127.0.0.9', '127.0.0.10'],
    'ip.b.svc.cluster.local': ['127.0.3.4'],
  });
});

test('probe ports by name or number, periods clamped to 0.2 s', () => {
  const ports = [{ name: 'http', containerPort: 8000 }];
  expect(resolveProbePort('http', ports)).toBe(8000);
  expect(resolveProbePort(9000, ports)).toBe(9000);
  expect(resolveProbePort('9001', ports)).toBe(9001);
  expect(resolveProbePort('metrics', ports)).toBeUndefined();
  expect(probeTiming({ periodSeconds: 0.05 }).periodMs).toBe(200);
  expect(probeTiming({}).failureThreshold).toBe(3);
  expect(probeTiming({ periodSeconds: 1, initialDelaySeconds: 2 }, 1)).toMatchObject({ periodMs: 1000, initialDelayMs: 2000 });
  // the twin's probe clock: the seed's readiness period of 5 s costs 1 s at the default scale 0.2
  expect(probeTiming({ periodSeconds: 5, initialDelaySeconds: 2 })).toMatchObject({ periodMs: 1000, initialDelayMs: 400 });
  expect(probeTiming({ periodSeconds: 0.5 }, 0.2).periodMs).toBe(200);
});

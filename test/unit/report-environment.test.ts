import { expect, test } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeLoadedProfiles,
  finalizeEnvironment,
  formatProperties,
  harnessEnvironment,
  mergeEnvironment,
  parseProperties,
  readEppEnvironment,
  recordEnvironment,
  targetEnvironment,
} from '../../reporters/environment.ts';

test('properties round trip, with escapes', () => {
  const env = { 'target.kind': 'twin', 'gateway.url': 'http://127.0.0.1:18080', 'odd key': 'a\\b\nc', 'x=y': 'v' };
  expect(parseProperties(formatProperties(env))).toEqual(env);
});

test('merge lists differing values once each', () => {
  expect(mergeEnvironment({ a: '1', p: 'proxy-performance' }, { p: 'proxy-performance-by-backend' }, { p: 'proxy-performance' })).toEqual({
    a: '1',
    p: 'proxy-performance | proxy-performance-by-backend',
  });
  // values with commas stay whole
  expect(mergeEnvironment({ s: 'default: scorers a, b' }, { s: 'default: scorers a, b' }, { s: 'x' })).toEqual({
    s: 'default: scorers a, b | x',
  });
});

test('fragments from workers fold into environment.properties after allure-playwright wrote it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pd-env-'));
  try {
    recordEnvironment(
      {
        ...harnessEnvironment(),
        ...targetEnvironment({
          kind: 'twin',
          gatewayUrl: 'http://127.0.0.1:1234',
          info: { server: 'https://127.0.0.1:6443', serverVersion: 'v1.32.0-twin' },
        }),
      },
      dir,
    );
    recordEnvironment({ 'epp.profile': 'proxy-performance' }, dir);
    recordEnvironment({ 'epp.profile': 'proxy-performance-by-backend', 'target.apiServer': 'https://u:token=abc@127.0.0.1' }, dir);
    writeFileSync(join(dir, 'environment.properties'), 'node_version = v20.0.0\n'); // what allure-playwright's onEnd writes
    const merged = finalizeEnvironment(dir)!;
    const props = parseProperties(readFileSync(join(dir, 'environment.properties'), 'utf8'));
    expect(props).toEqual(merged);
    expect(props.node_version).toBe('v20.0.0');
    expect(props['target.kind']).toBe('twin');
    expect(props['target.serverVersion']).toBe('v1.32.0-twin');
    expect(props['gateway.url']).toBe('http://127.0.0.1:1234');
    expect(props['pd-harness.version']).toMatch(/^\d+\.\d+\.\d+/);
    expect(props['git.commit']).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(props['epp.profile']).toBe('proxy-performance | proxy-performance-by-backend');
    expect(props['target.apiServer']).not.toContain('abc');
    expect(readdirSync(dir).sort()).toEqual(['environment.properties']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('EPP image and profile come from the Deployment and the SchedulerInstall', async () => {
  const objects: Record<string, unknown> = {
    Deployment: { spec: { template: { spec: { containers: [{ image: 'ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0' }] } } } },
    SchedulerInstall: { spec: { epp: { configProfile: 'proxy-performance' } } },
  };
  const reader = { tryRead: async <T>(ref: { kind: string }) => objects[ref.kind] as T | undefined };
  expect(await readEppEnvironment(reader)).toEqual({
    'epp.image': 'ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0',
    'epp.profile': 'proxy-performance',
  });
  expect(await readEppEnvironment({ tryRead: async () => undefined })).toEqual({});
  expect(
    describeLoadedProfiles([
      { profile: 'default', filters: ['by-label-selector'], scorers: ['active-request-scorer'], picker: 'max-score-picker' },
    ]),
  ).toBe('default: filters by-label-selector; scorers active-request-scorer; picker max-score-picker');
});

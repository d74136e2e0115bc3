import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
import tls from 'node:tls';
import * as k8s from '#client-node';
import { loadKeepAliveKubeConfig } from '../../common/kube-client.ts';
import { startApiServer, type ApiServerHandle } from '../../twin/apiserver/server.ts';

/*
 * common/kube-client.ts: every client of one KubeConfig shares one keep-alive agent and one TLS SecureContext.
 * client-node 1.4 alone builds an agent per request, and tls.connect a SecureContext (CA, certificate and key
 * parsed again) per connection. Counted on the calls to tls.createSecureContext (tls.connect's and the agent's),
 * against the twin's API server over real TLS.
 */
let h: ApiServerHandle;
let stateDir: string;

test.beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-client-'));
  h = await startApiServer({ stateDir, controllers: false });
});

test.afterAll(async () => {
  await h?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function countSecureContexts(body: () => Promise<void>): Promise<number> {
  const original = tls.createSecureContext;
  let calls = 0;
  tls.createSecureContext = (...args) => {
    calls++;
    return original(...args);
  };
  syncBuiltinESMExports(); // `import * as tls` namespaces (common/kube-client.ts) see the counter too
  try {
    await body();
  } finally {
    tls.createSecureContext = original;
    syncBuiltinESMExports();
  }
  return calls;
}

/** 6 calls at once (6 connections), then 3 one after another (reused, keep-alive); all must answer. */
async function calls(core: k8s.CoreV1Api): Promise<void> {
  const lists = await Promise.all(Array.from({ length: 6 }, () => core.listNamespace()));
  for (let i = 0; i < 3; i++) lists.push(await core.listNamespace());
  for (const l of lists) expect(l.items.map((n) => n.metadata?.name)).toContain('default');
}

test('clients of a keep-alive kubeconfig share one SecureContext; plain client-node builds one per connection', async () => {
  const plain = new k8s.KubeConfig();
  plain.loadFromFile(h.kubeconfigPath);
  const plainCount = await countSecureContexts(() => calls(plain.makeApiClient(k8s.CoreV1Api)));
  // the contrast shows the count sees what tls.connect does: one per request's connection without the shared agent
  expect(plainCount).toBeGreaterThanOrEqual(9);

  const shared = loadKeepAliveKubeConfig(h.kubeconfigPath);
  const sharedCount = await countSecureContexts(async () => {
    await calls(shared.makeApiClient(k8s.CoreV1Api));
    // a second API client of the same kubeconfig uses the same agent and context
    await calls(shared.makeApiClient(k8s.CoreV1Api));
  });
  expect(sharedCount).toBe(1);
});

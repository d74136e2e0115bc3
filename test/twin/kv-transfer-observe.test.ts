import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cluster } from '../../cluster/driver.ts';
import { consoleReporter } from '../../runner/reporter.ts';
import { runSuite } from '../../runner/run-suite.ts';
import { loadSuite } from '../../suites/loader.ts';
import { RANDOM_IP_PREFIX, startTwin, type TwinHandle } from '../../twin/launcher.ts';

/** The kvTransfer criterion judged from what the decode pods show, on the seed topology in the twin. */
test.describe.configure({ mode: 'serial', timeout: 240_000 });

let twin: TwinHandle;
let stateDir = '';
const quiet = { ...consoleReporter, step: <T>(_: string, body: () => Promise<T>) => body(), log: () => undefined };

test.beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'pdh-kvobs-'));
  twin = await startTwin({ stateDir, gatewayPort: 0, ipPrefix: RANDOM_IP_PREFIX });
});
test.afterAll(async () => {
  try {
    await twin?.stop();
  } finally {
    // after the twin has stopped: its state holds the kubeconfig (a bearer token)
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
});

test('kvTransfer: P2P decode shows hits on its metrics, the seed FS emptyDir setup shows misses in its log', async () => {
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    const outcome = await runSuite({
      cluster,
      gatewayUrl: twin.gatewayUrl,
      loaded: loadSuite('test/fixtures/suites/kv-transfer-ab.suite.yaml'),
      rep: quiet,
    });
    const [responses, p2p, fs] = outcome.verdicts;
    expect(responses?.summary).toBe('8/8 requests got 200');
    expect(p2p?.name).toBe('kvTransfer');
    expect(p2p?.ok).toBe(true);
    expect(p2p?.summary).toMatch(
      /^p2p: \d+\/\d+ prompt tokens of decode requests were matched in external KV when scheduled \(vLLM counts a P2P load then, even if the tensor never comes\) \(9\d\.\d%\); from vllm-decode-p2p \/metrics/,
    );
    expect(fs?.ok).toBe(false);
    expect(fs?.summary).toBe(
      'fs: 0/4 decode requests reused the prefill\'s KV (0.0%), below 90.0%; from vllm-decode-fs log ("External Cache Hit!" per completion)',
    );
    expect(outcome.passed).toBe(false);
  } finally {
    expect((await cluster.teardown()).filter((o) => !o.ok)).toEqual([]);
  }
});

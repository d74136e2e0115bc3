/**
 * End to end through the CLI, on fresh twins: `pd-harness repro` finds the seeded IndexError on P2P and not on
 * FS, writes a bundle whose traceback is the previous container's, and running the bundle's replay command
 * crashes the same cell again at the same point (same engine request counter).
 *
 * Each run gets its own working directory, so its twin state (.pd-harness/), Playwright output and Allure
 * results stay apart from other runs on the machine.
 */
import { test, expect } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BundleJson } from '../../chaos/repro/bundle.ts';
import type { CampaignSummary } from '../../chaos/repro/summary.ts';
import { parseReplayCommand, replayArgs } from '../../chaos/repro/replay.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pd-harness.js');
const RUN_LIMIT_MS = 360_000;

const manifests = (p: string) => join(ROOT, 'manifests', p);

function suiteYaml(): string {
  return `apiVersion: pd-harness.dev/v1
kind: Suite
metadata: { name: repro-replay-check, tags: [repro] }
spec:
  target:
    namespaces: [llm-d-vllm, llm-d-inference-scheduler]
    clusterScoped:
      - CustomResourceDefinition/gatewayclasses.gateway.networking.k8s.io
      - CustomResourceDefinition/gateways.gateway.networking.k8s.io
      - CustomResourceDefinition/httproutes.gateway.networking.k8s.io
      - CustomResourceDefinition/referencegrants.gateway.networking.k8s.io
      - CustomResourceDefinition/inferencepools.inference.networking.k8s.io
      - CustomResourceDefinition/testruns.k6.io
      - CustomResourceDefinition/schedulerinstalls.sim.llm-d.io
  deploy:
    - ${manifests('namespaces.yaml')}
    - ${manifests('crds/')}
    - ${manifests('vllm/pd-proxy-program.yaml')}
    - ${manifests('vllm/p2p-nccl-same-node.yaml')}
    - ${manifests('vllm/fs-kv-same-node.yaml')}
    - ${manifests('gateway-routing/inferencepool-proxy-performance.yaml')}
    - ${manifests('gateway-routing/schedulerinstall-proxy-performance.yaml')}
    - ${manifests('gateway-routing/httproute-ab.yaml')}
  setup:
    - wait: { for: { podsReady: { namespace: llm-d-vllm, selector: role=proxy } }, timeout: 180s }
    - wait: { for: { condition: { ref: httproute/vllm-ab-test, namespace: llm-d-inference-scheduler, type: Accepted } }, timeout: 60s }
  load:
    requests: 2
    timeout: 35s
    request:
      path: /v1/completions
      headers: { Content-Type: application/json }
      body: { model: Qwen/Qwen3-Coder-30B-A3B-Instruct, prompt: "preflight-{{i}}", max_tokens: 4 }
    variants: [{ name: nvlink, headers: { x-kv-backend: nvlink } }, { name: fs, headers: { x-kv-backend: fs } }]
  faults:
    - decodeIndexError: { selector: "app=vllm-p2p-test,role=decode", trigger: { probability: 0.25, seed: 7 } }
  repro:
    connectors: [p2p, fs]
    concurrency: [4]
    promptTokens: [1500]
    clientTimeout: [35s]
    requestsPerCell: 20
    seed: 3
`;
}

/** The parent's Playwright worker variables would confuse the nested Playwright run. */
function childEnv(allureDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(TEST_|PW_|PLAYWRIGHT_)/.test(k) || k === 'PLAYWRIGHT_BROWSERS_PATH') env[k] = v;
  return { ...env, ALLURE_RESULTS_DIR: allureDir, PD_HARNESS_WORKERS: '1', FORCE_COLOR: '0' };
}

async function pdHarness(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  mkdirSync(cwd, { recursive: true });
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: childEnv(join(cwd, 'allure-results')),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), RUN_LIMIT_MS);
  try {
    const code = await new Promise<number>((ok) => child.once('exit', (c) => ok(c ?? 1)));
    return { code, output };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

let dir = '';
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'repro-replay-'));
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the campaign finds the seeded crash on P2P only, and the bundle's replay command reproduces it", async () => {
  test.setTimeout(2 * RUN_LIMIT_MS + 60_000);
  const suite = join(dir, 'repro-replay-check.suite.yaml');
  writeFileSync(suite, suiteYaml());

  const out = join(dir, 'out');
  const first = await pdHarness(['repro', suite, '--out', out], join(dir, 'run-campaign'));
  expect(first.code, first.output.slice(-3000)).toBe(0);
  const campaignDir = join(out, 'repro-replay-check-seed3');
  const summary = readJson<CampaignSummary>(join(campaignDir, 'summary.json'));
  expect(summary.cells.map((c) => [c.id, c.crashes])).toEqual([
    ['p2p-c4-p1500-t35s', 1],
    ['fs-c4-p1500-t35s', 0],
  ]);
  expect(summary.answer.p2pOnly).toBe('yes');
  expect(first.output).toContain('P2P only');
  expect(readFileSync(join(campaignDir, 'summary.md'), 'utf8')).toContain('| p2p-c4-p1500-t35s | p2p | 4 | 1500 | 35s | yes | 20 | 1 |');

  const bundleDir = join(campaignDir, 'p2p-c4-p1500-t35s');
  const bundle = readJson<BundleJson>(join(bundleDir, 'bundle.json'));
  expect(bundle.traceback.source).toBe('previous');
  expect(bundle.signature).toMatchObject({ indexError: true, engineDead: true });
  expect(bundle.inFlightRequestIds.length).toBeGreaterThan(0);
  expect(bundle.pod.restartCount).toBeGreaterThan(bundle.pod.restartCountBefore);
  const previous = readFileSync(join(bundleDir, 'decode-previous.log'), 'utf8');
  const traceback = readFileSync(join(bundleDir, 'traceback.txt'), 'utf8').split('\n').slice(1).filter(Boolean);
  expect(traceback.at(-1)).toContain('IndexError: index out of range in self');
  for (const line of traceback) expect(previous).toContain(line);

  // Replay: exactly what replay.sh says, in a fresh directory (so a fresh twin), writing elsewhere.
  const target = parseReplayCommand(readFileSync(join(bundleDir, 'replay.sh'), 'utf8'));
  expect(target).toEqual({ suiteFile: suite, cellId: 'p2p-c4-p1500-t35s', seed: 3 });
  const replayOut = join(dir, 'replay-out');
  const second = await pdHarness([...replayArgs(target), '--out', replayOut], join(dir, 'run-replay'));
  expect(second.code, second.output.slice(-3000)).toBe(0);
  const replayDir = join(replayOut, 'repro-replay-check-seed3-p2p-c4-p1500-t35s');
  const replaySummary = readJson<CampaignSummary>(join(replayDir, 'summary.json'));
  expect(replaySummary.cells.map((c) => [c.id, c.crashes])).toEqual([['p2p-c4-p1500-t35s', 1]]);
  const replayed = readJson<BundleJson>(join(replayDir, 'p2p-c4-p1500-t35s', 'bundle.json'));
  // Same seed, same cell: the same trigger, and the engine died on the same admitted request.
  expect(replayed.injected).toEqual(bundle.injected);
  expect(replayed.cellSeed).toBe(bundle.cellSeed);
  expect(replayed.requestCounter).toBe(bundle.requestCounter);
});

import { test, expect } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Event, V1Pod } from '#client-node';
import {
  BUNDLE_FILES,
  buildBundle,
  bundleFiles,
  eppDecisionsInWindow,
  podEvents,
  requestsInFlightAt,
  writeBundle,
  type BundleInput,
} from '../../chaos/repro/bundle.ts';
import { parseCrashLog, type DetectedCrash } from '../../chaos/repro/detect.ts';
import { parseReplayCommand, replayCommand, shellQuote, splitShellWords } from '../../chaos/repro/replay.ts';

const E = '(EngineCore_DP0 pid=109) ERROR 11-25 02:17:35 [core.py:866] ';
const LOG = [
  '(APIServer pid=1) INFO 11-25 02:17:32 [api_server.py:1880] Starting vLLM API server 0 on http://0.0.0.0:8000',
  `${E}Traceback (most recent call last):`,
  `${E}  File "/x/gpu_model_runner.py", line 1474, in _prepare_inputs`,
  `${E}    torch.index_select(`,
  `${E}IndexError: index out of range in self`,
  '(APIServer pid=1) ERROR 11-25 02:17:35 [async_llm.py:480] vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue.',
  '(APIServer pid=1) ERROR 11-25 02:17:35 [twin] engine died (IndexError fault); request counter: 4; in-flight request ids: id-a, id-b',
  'Authorization: Bearer sk-secret-token-value',
].join('\n');

const T0 = Date.parse('2026-11-25T02:17:35.000Z');

function crash(): DetectedCrash {
  const pod: V1Pod = {
    metadata: { name: 'vllm-decode-p2p', namespace: 'llm-d-vllm', uid: 'u1' },
    spec: { nodeName: 'worker-a', containers: [] },
    status: {
      phase: 'Running',
      podIP: '127.9.0.4',
      containerStatuses: [
        {
          name: 'vllm',
          image: '',
          imageID: '',
          ready: true,
          restartCount: 3,
          state: { running: {} },
          lastState: { terminated: { exitCode: 1, reason: 'Error' } },
        },
      ],
    },
  };
  return {
    rise: { pod: 'vllm-decode-p2p', uid: 'u1', before: 2, after: 3 },
    pod,
    previousLog: LOG,
    logSource: 'previous',
    signature: parseCrashLog(LOG)!,
    crashedAtMs: T0 + 1000,
  };
}

const EVENTS: CoreV1Event[] = [
  {
    metadata: {},
    involvedObject: { name: 'vllm-decode-p2p' },
    type: 'Warning',
    reason: 'BackOff',
    message: 'Back-off restarting failed container',
    lastTimestamp: new Date(T0 + 2000),
  },
  { metadata: {}, involvedObject: { name: 'vllm-decode-fs' }, type: 'Normal', reason: 'Started', message: 'other pod' },
  {
    metadata: {},
    involvedObject: { name: 'vllm-decode-p2p' },
    type: 'Normal',
    reason: 'Started',
    message: 'Started container vllm',
    lastTimestamp: new Date(T0 - 5000),
  },
];

const decision = (tsSec: number, pod: string) =>
  JSON.stringify({
    level: 'info',
    ts: tsSec,
    msg: 'Scoring decision',
    request_id: 'r',
    selected: [`llm-d-vllm/${pod}-5d9c7b7f6-x2k4q-rank-0`],
  });

function input(): BundleInput {
  const epp = eppDecisionsInWindow(
    [decision(T0 / 1000 - 60, 'vllm-fs-proxy'), decision(T0 / 1000 + 0.5, 'vllm-p2p-proxy'), 'no time here'],
    T0 - 1000,
    T0 + 3000,
  );
  return {
    campaign: 'repro-decode-index-error-seed1',
    suiteFile: 'suites/repro-decode-index-error.suite.yaml',
    cell: { id: 'p2p-c4-p1500-t300ms', connector: 'p2p', concurrency: 4, promptTokens: 1500, clientTimeoutMs: 300, requests: 20 },
    seed: 1,
    cellSeed: 514438079,
    target: 'twin',
    injected: { indexError: { probability: 0.25, seed: 9 } },
    cellStartedAtMs: T0 - 1000,
    detectedAtMs: T0 + 3000,
    crash: crash(),
    events: EVENTS,
    epp,
    load: { requests: 20, byStatus: { '200': 17, '500': 3 }, errors: {} },
    clientRequestsInFlight: [4, 5],
    cwd: '/work/main',
  };
}

test('EPP decisions are counted inside the crash window only', () => {
  const w = input().epp;
  expect(w.counts.decisions).toBe(1);
  expect(w.counts.byWorkload).toEqual({ 'vllm-p2p-proxy': 1 });
  expect(w.decisionLines).toHaveLength(1);
});

test("pod events are the crashed pod's, oldest first", () => {
  expect(podEvents(EVENTS, 'vllm-decode-p2p').map((e) => e.reason)).toEqual(['Started', 'BackOff']);
});

test('requests in flight at the crash time', () => {
  const recs = [
    { index: 0, startMs: 0, latencyMs: 100 },
    { index: 1, startMs: 50, latencyMs: 200 },
    { index: 2, startMs: 300, latencyMs: 10 },
  ];
  expect(requestsInFlightAt(recs, 120)).toEqual([1]);
  expect(requestsInFlightAt(recs, 80)).toEqual([0, 1]);
});

test('bundle.json holds the cell, seeds, time, in-flight ids, pod status, events, EPP window and the replay command', () => {
  const b = buildBundle(input());
  expect(b).toMatchObject({
    kind: 'pd-harness/repro-bundle',
    campaign: 'repro-decode-index-error-seed1',
    suiteFile: 'suites/repro-decode-index-error.suite.yaml',
    cell: { id: 'p2p-c4-p1500-t300ms' },
    seed: 1,
    cellSeed: 514438079,
    crashedAt: '2026-11-25T02:17:36.000Z',
    inFlightRequestIds: ['id-a', 'id-b'],
    requestCounter: 4,
    clientRequestsInFlight: [4, 5],
    traceback: { source: 'previous', lines: 4, file: 'traceback.txt' },
    signature: { indexError: true, engineDead: true, exception: 'IndexError: index out of range in self' },
    pod: { name: 'vllm-decode-p2p', node: 'worker-a', podIP: '127.9.0.4', restartCountBefore: 2, restartCount: 3 },
    replay: 'npx pd-harness repro suites/repro-decode-index-error.suite.yaml --cell p2p-c4-p1500-t300ms --seed 1',
  });
  expect(b.events.map((e) => e.reason)).toEqual(['Started', 'BackOff']);
  expect(b.eppDecisions.counts.decisions).toBe(1);
});

test('the files: traceback from the previous log, the log redacted, an executable replay.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'repro-bundle-'));
  try {
    const paths = writeBundle(join(dir, 'p2p-c4-p1500-t300ms'), bundleFiles(input()));
    expect(paths.map((p) => p.split('/').pop()).sort()).toEqual(Object.values(BUNDLE_FILES).sort());
    const tb = readFileSync(join(dir, 'p2p-c4-p1500-t300ms', 'traceback.txt'), 'utf8');
    expect(tb.split('\n')[0]).toBe('# kubectl logs -n llm-d-vllm vllm-decode-p2p --previous (restartCount 2 -> 3)');
    expect(tb).toContain(`${E}IndexError: index out of range in self`);
    const log = readFileSync(join(dir, 'p2p-c4-p1500-t300ms', 'decode-previous.log'), 'utf8');
    expect(log).toContain('IndexError: index out of range in self');
    expect(log).not.toContain('sk-secret-token-value');
    const sh = join(dir, 'p2p-c4-p1500-t300ms', 'replay.sh');
    expect(statSync(sh).mode & 0o111).not.toBe(0);
    const script = readFileSync(sh, 'utf8');
    expect(script.startsWith('#!/bin/sh\n')).toBe(true);
    expect(script).toContain(
      'cd /work/main\nnpx pd-harness repro suites/repro-decode-index-error.suite.yaml --cell p2p-c4-p1500-t300ms --seed 1\n',
    );
    expect(parseReplayCommand(script)).toEqual({
      suiteFile: 'suites/repro-decode-index-error.suite.yaml',
      cellId: 'p2p-c4-p1500-t300ms',
      seed: 1,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay commands quote odd paths and parse back', () => {
  const t = { suiteFile: "/tmp/my suites/it's.suite.yaml", cellId: 'fs-c4-p64-t35s', seed: -3 };
  const cmd = replayCommand(t);
  expect(cmd).toBe(`npx pd-harness repro '/tmp/my suites/it'\\''s.suite.yaml' --cell fs-c4-p64-t35s --seed -3`);
  expect(parseReplayCommand(`#!/bin/sh\n${cmd}\n`)).toEqual(t);
  expect(splitShellWords(`a "b c" 'd e' f\\ g`)).toEqual(['a', 'b c', 'd e', 'f g']);
  expect(shellQuote('suites/x.yaml')).toBe('suites/x.yaml');
  expect(() => parseReplayCommand('echo hi')).toThrow(/no "npx pd-harness repro" line/);
  expect(() => parseReplayCommand('npx pd-harness repro s.yaml --seed 1')).toThrow(/lacks/);
});

test('bundle files are redacted when written, whole (no temp files left), replay.sh executable', async () => {
  const { mkdtempSync, readdirSync, readFileSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { writeBundle } = await import('../../chaos/repro/bundle.ts');
  const dir = mkdtempSync(join(tmpdir(), 'bundle-'));
  try {
    writeBundle(dir, {
      'bundle.json': `${JSON.stringify({ target: 'https://u:bundle-pw-1@127.0.0.1:6443', headers: { Authorization: 'Bearer bundle-bearer-2' } }, null, 2)}\n`,
      'traceback.txt': 'Traceback\n  OPENAI_API_KEY=sk-bundleBundleBundleBundle3\n',
      'replay.sh': '#!/bin/sh\nexport HF_TOKEN=hf_bundleBundleBundleBund4\n',
    });
    const all = readdirSync(dir)
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    for (const secret of ['bundle-pw-1', 'bundle-bearer-2', 'sk-bundleBundleBundleBundle3', 'hf_bundleBundleBundleBund4'])
      expect(all).not.toContain(secret);
    expect(readdirSync(dir).sort()).toEqual(['bundle.json', 'replay.sh', 'traceback.txt']);
    expect(statSync(join(dir, 'replay.sh')).mode & 0o111).not.toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

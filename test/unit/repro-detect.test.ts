import { test, expect } from '@playwright/test';
import type { V1Pod } from '#client-node';
import {
  classifyRestarts,
  endedSince,
  lastTerminatedAt,
  messageOf,
  parseCrashLog,
  restartsRose,
  snapshotRestarts,
} from '../../chaos/repro/detect.ts';

const E = '(EngineCore_DP0 pid=109) ERROR 11-25 02:17:35 [core.py:866] ';
const A = '(APIServer pid=1) ERROR 11-25 02:17:35 [async_llm.py:480] ';
const SITE = '/usr/local/lib/python3.12/dist-packages';

const CRASH_LOG = [
  '(APIServer pid=1) INFO 11-25 02:17:32 [api_server.py:1880] Starting vLLM API server 0 on http://0.0.0.0:8000',
  '(APIServer pid=1) INFO:     127.0.0.1:58860 - "POST /v1/completions HTTP/1.1" 200 OK',
  `${E}EngineCore encountered a fatal error.`,
  `${E}Traceback (most recent call last):`,
  `${E}  File "${SITE}/vllm/v1/engine/core.py", line 857, in run_engine_core`,
  `${E}    engine_core.run_busy_loop()`,
  `${E}  File "${SITE}/vllm/v1/worker/gpu_model_runner.py", line 3333, in execute_model`,
  `${E}    ) = self._prepare_inputs(scheduler_output)`,
  `${E}  File "${SITE}/vllm/v1/worker/gpu_model_runner.py", line 1474, in _prepare_inputs`,
  `${E}    torch.index_select(`,
  `${E}IndexError: index out of range in self`,
  `${A}AsyncLLM output_handler failed.`,
  `${A}Traceback (most recent call last):`,
  `${A}  File "${SITE}/vllm/v1/engine/async_llm.py", line 439, in output_handler`,
  `${A}vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.`,
  '(APIServer pid=1) ERROR 11-25 02:17:35 [twin] engine died (IndexError fault); request counter: 4; in-flight request ids: ___prefill_addr_a:1___decode_addr_b:2_aa, ___prefill_addr_a:1___decode_addr_b:2_bb',
].join('\n');

function pod(name: string, uid: string, restarts: number, extra: Partial<V1Pod['status']> = {}): V1Pod {
  return {
    metadata: { name, uid, namespace: 'llm-d-vllm' },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'vllm', image: 'vllm/vllm-openai:v0.15.0', imageID: '', ready: true, restartCount: restarts, state: { running: {} } },
      ],
      ...extra,
    },
  };
}

test('messageOf strips vLLM and kubectl prefixes', () => {
  expect(messageOf(`${E}IndexError: index out of range in self`)).toBe('IndexError: index out of range in self');
  expect(messageOf(`2026-11-25T02:17:35.123456789Z ${A}AsyncLLM output_handler failed.`)).toBe('AsyncLLM output_handler failed.');
  expect(messageOf('(APIServer pid=1) INFO:     Started server process [1]')).toBe('INFO:     Started server process [1]');
});

test('parses the IndexError traceback block, its frames and the in-flight request ids', () => {
  const sig = parseCrashLog(CRASH_LOG)!;
  expect(sig.indexError).toBe(true);
  expect(sig.engineDead).toBe(true);
  expect(sig.exception).toBe('IndexError: index out of range in self');
  expect(sig.traceback[0]).toBe(`${E}Traceback (most recent call last):`);
  expect(sig.traceback.at(-1)).toBe(`${E}IndexError: index out of range in self`);
  expect(sig.traceback).toHaveLength(8);
  expect(sig.frames).toEqual([
    { file: `${SITE}/vllm/v1/engine/core.py`, line: 857, func: 'run_engine_core' },
    { file: `${SITE}/vllm/v1/worker/gpu_model_runner.py`, line: 3333, func: 'execute_model' },
    { file: `${SITE}/vllm/v1/worker/gpu_model_runner.py`, line: 1474, func: '_prepare_inputs' },
  ]);
  expect(sig.inFlightRequestIds).toEqual(['___prefill_addr_a:1___decode_addr_b:2_aa', '___prefill_addr_a:1___decode_addr_b:2_bb']);
  expect(sig.requestCounter).toBe(4);
});

test('an EngineDeadError alone (real vLLM without the twin line) is a crash with its own block', () => {
  const log = CRASH_LOG.split('\n')
    .filter((l) => !l.includes('IndexError') && !l.includes('[twin]'))
    .join('\n');
  const sig = parseCrashLog(log)!;
  expect(sig.indexError).toBe(false);
  expect(sig.engineDead).toBe(true);
  expect(sig.exception).toMatch(/^vllm\.v1\.engine\.exceptions\.EngineDeadError/);
  expect(sig.traceback[0]).toContain('[async_llm.py:480] Traceback');
  expect(sig.inFlightRequestIds).toEqual([]);
  expect(sig.requestCounter).toBeUndefined();
});

test('a log without the signature is no crash', () => {
  expect(parseCrashLog('(APIServer pid=1) INFO 11-25 02:17:32 [api_server.py:1880] Starting\nKilled\n')).toBeUndefined();
  expect(parseCrashLog('')).toBeUndefined();
  // A different IndexError is not the one of facts.md §3.
  expect(parseCrashLog(`${E}IndexError: list index out of range`)).toBeUndefined();
});

test('restartsRose counts restarts in place only (same uid), not replacements or new pods', () => {
  const before = snapshotRestarts([pod('vllm-decode-p2p', 'u1', 1), pod('vllm-decode-fs', 'u2', 0)]);
  const after = snapshotRestarts([pod('vllm-decode-p2p', 'u1', 2), pod('vllm-decode-fs', 'u9', 3), pod('new', 'u3', 1)]);
  expect(restartsRose(before, after)).toEqual([{ pod: 'vllm-decode-p2p', uid: 'u1', before: 1, after: 2 }]);
  expect(restartsRose(before, before)).toEqual([]);
});

test('endedSince sees a recent termination or a container that is not running', () => {
  const since = Date.parse('2026-11-25T02:17:35.018Z');
  const terminated = (finishedAt: string): V1Pod =>
    pod('d', 'u', 1, {
      containerStatuses: [
        {
          name: 'vllm',
          image: '',
          imageID: '',
          ready: true,
          restartCount: 1,
          state: { running: {} },
          lastState: { terminated: { exitCode: 1, finishedAt: new Date(finishedAt) } },
        },
      ],
    });
  // finishedAt has second precision: 02:17:35 is within a cell that started at 02:17:35.018.
  expect(endedSince(terminated('2026-11-25T02:17:35Z'), since)).toBe(true);
  expect(endedSince(terminated('2026-11-25T02:17:20Z'), since)).toBe(false);
  expect(lastTerminatedAt(terminated('2026-11-25T02:17:20Z'))).toBe(Date.parse('2026-11-25T02:17:20Z'));
  const backoff = pod('d', 'u', 0, {
    containerStatuses: [
      { name: 'vllm', image: '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'CrashLoopBackOff' } } },
    ],
  });
  expect(endedSince(backoff, since)).toBe(true);
  expect(endedSince(pod('d', 'u', 0), since)).toBe(false);
});

test('classifyRestarts: the signature makes a crash, anything else is another restart', () => {
  const p2p = pod('vllm-decode-p2p', 'u1', 2, {
    containerStatuses: [
      {
        name: 'vllm',
        image: '',
        imageID: '',
        ready: true,
        restartCount: 2,
        state: { running: {} },
        lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: new Date('2026-11-25T02:17:36Z') } },
      },
    ],
  });
  const fs = pod('vllm-decode-fs', 'u2', 1, {
    containerStatuses: [
      {
        name: 'vllm',
        image: '',
        imageID: '',
        ready: true,
        restartCount: 1,
        state: { running: {} },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
      },
    ],
  });
  const rises = [
    { pod: 'vllm-decode-p2p', uid: 'u1', before: 1, after: 2 },
    { pod: 'vllm-decode-fs', uid: 'u2', before: 0, after: 1 },
    { pod: 'gone', uid: 'u3', before: 0, after: 1 },
  ];
  const logs = new Map([
    ['vllm-decode-p2p', CRASH_LOG],
    ['vllm-decode-fs', '(APIServer pid=1) INFO 11-25 02:17:32 [api_server.py:1880] Starting\n'],
  ]);
  const { crashes, others } = classifyRestarts(rises, [p2p, fs], logs);
  expect(crashes).toHaveLength(1);
  expect(crashes[0]).toMatchObject({ rise: rises[0], logSource: 'previous', crashedAtMs: Date.parse('2026-11-25T02:17:36Z') });
  expect(crashes[0]!.signature.indexError).toBe(true);
  expect(others.map((o) => [o.rise.pod, o.reason])).toEqual([
    ['vllm-decode-fs', 'no IndexError/EngineDeadError in the previous log (exit 137, OOMKilled)'],
    ['gone', 'previous container log unavailable'],
  ]);
});

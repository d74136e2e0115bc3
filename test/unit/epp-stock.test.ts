import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { countDecisions, parseLoadedProfiles } from '../../analysis/epp-decisions.ts';
import { MAX_LINE_LENGTH } from '../../analysis/line-splitter.ts';
import { PodIpTimeline, timelineFromPodList, workloadOfPod } from '../../analysis/pod-ips.ts';
import { decodeLine, splitEndpoints } from '../../analysis/request-handled.ts';
import { eppProfile } from '../../criteria/epp-profile.ts';
import { proxiesChosen } from '../../criteria/proxies-chosen.ts';
import type { LoadResult, RequestRecord } from '../../load/result.ts';
import { errorHandlingRequestLine, parsedConfigLine, pickLines, requestHandledLine } from '../../twin/sims/epp/log.ts';
import { buildScheduler } from '../../twin/sims/epp/scheduler.ts';
import { parseEppConfig } from '../../twin/sims/epp/config.ts';

const CLI = 'bin/pd-harness.js';
const FIX = 'test/fixtures/epp-logs';
const GAIE_LOG = `${FIX}/stock-gaie-v1.2.0.log`;
const LLMD_LOG = `${FIX}/stock-llm-d-v0.4.0.log`;
const PODS = `${FIX}/pods.json`;
/** Counted by hand from the fixtures (README.md there). */
const BY_WORKLOAD = { 'vllm-fs-proxy': 10, 'vllm-p2p-proxy': 9, '10.42.9.9:8080': 1 };
const BY_ENDPOINT = { 'llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w': 10, 'llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q': 9, '10.42.9.9:8080': 1 };
const BY_ADDRESS = { '10.42.0.17:8080': 9, '10.42.1.23:8080': 7, '[fd00:10:42::23]:8080': 3, '10.42.9.9:8080': 1 };

let dir = '';
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pd-epp-stock-'));
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) =>
  execa(process.execPath, [CLI, 'epp-decisions', ...args], { reject: false, ...(input !== undefined ? { input } : {}) });

test('epp-decisions --pods --json counts a stock GAIE v1.2.0 log exactly per workload, pod and address', async () => {
  const res = await cli([GAIE_LOG, '--pods', PODS, '--json']);
  expect(res.exitCode, res.stderr).toBe(0);
  const out = JSON.parse(res.stdout);
  expect(out).toMatchObject({
    decisions: 18,
    byWorkload: BY_WORKLOAD,
    byEndpoint: BY_ENDPOINT,
    source: 'request-log',
    failures: { InferencePoolResourceExhausted: 1, failedToRunSchedulerProfile: 1 },
  });
  expect(out.requestLog).toEqual({ lines: 18, byAddress: BY_ADDRESS, byEndpoint: BY_ENDPOINT, byWorkload: BY_WORKLOAD, unresolved: 1 });
  expect(res.stderr).toContain('instrumented EPP image');
});

test('the llm-d v0.4.0 log through kubectl --prefix --timestamps gives the same counts; without --pods counts per address and says so', async () => {
  const mapped = JSON.parse((await cli([LLMD_LOG, '--pods', PODS, '--json'])).stdout);
  expect(mapped.byWorkload).toEqual(BY_WORKLOAD);
  const plain = await cli([LLMD_LOG, '--json']);
  expect(JSON.parse(plain.stdout).byWorkload).toEqual(BY_ADDRESS);
  expect(plain.stderr).toContain('--pods FILE');
});

test('a gzip-compressed log is detected and read; a table names the source', async () => {
  const gz = join(dir, 'epp.log.gz');
  writeFileSync(gz, gzipSync(readFileSync(GAIE_LOG)));
  const res = await cli([gz, '--pods', PODS, '--json']);
  expect(res.exitCode, res.stderr).toBe(0);
  expect(JSON.parse(res.stdout).byWorkload).toEqual(BY_WORKLOAD);
  expect(res.stderr).toContain('gzip');
  const table = await cli([GAIE_LOG, '--pods', PODS]);
  expect(table.stdout).toMatch(/^source: EPP request log \(-v=3\)$/m);
  expect(table.stdout).toMatch(/^vllm-fs-proxy +10 /m);
});

test('lines cut at the line limit are reported as skipped for length', async () => {
  const file = join(dir, 'long.log');
  const long = `{"level":"Level(-3)","msg":"Request handled","endpoint":"10.42.0.17:8080","pad":"${'x'.repeat(MAX_LINE_LENGTH)}"}`;
  writeFileSync(file, `${readFileSync(GAIE_LOG, 'utf8')}${long}\n`);
  const res = await cli([file, '--pods', PODS, '--json']);
  const out = JSON.parse(res.stdout);
  expect(out.skippedTooLong).toBe(1);
  expect(out.byWorkload).toEqual(BY_WORKLOAD);
  expect(res.stderr).toContain('1 line(s) skipped: longer than');
});

test('a stock log at -v=1 (start line and errors only) says which verbosity or image gives per-request lines', async () => {
  const lines = readFileSync(GAIE_LOG, 'utf8')
    .split('\n')
    .filter((l) => !l.includes('"Request handled"') && !l.includes('LLM request assembled'));
  const res = await cli(['-', '--json'], lines.join('\n'));
  expect(JSON.parse(res.stdout)).toMatchObject({ decisions: 0, source: 'none', byWorkload: {} });
  expect(res.stderr).toContain('-v=3');
  expect(res.stderr).toContain('instrumented');
});

test('klog text and zap console lines are recognised', () => {
  const klog =
    'I1206 05:01:02.123456       1 director.go:266] "Request handled" objectiveKey="" incomingModelName="m" targetModel="m" endpoint="10.42.0.17:8080,[fd00::7]:8000"';
  const d = decodeLine(klog)!;
  expect(d).toMatchObject({ msg: 'Request handled', format: 'klog' });
  expect(splitEndpoints(d.fields.endpoint)).toEqual(['10.42.0.17:8080', '[fd00::7]:8000']);
  const console =
    '2026-12-06T05:01:02Z\tLevel(-3)\trequestcontrol/director.go:266\tRequest handled\t{"objectiveKey": "", "targetModel": "m", "endpoint": "10.42.1.23:8080"}';
  expect(decodeLine(console)).toMatchObject({ msg: 'Request handled', format: 'console', fields: { endpoint: '10.42.1.23:8080' } });
  const counts = countDecisions([klog, console]);
  expect(counts.byEndpoint).toEqual({ '10.42.0.17:8080': 1, '10.42.1.23:8080': 1, '[fd00::7]:8000': 1 });
});

test('the real start line: plugins name/type, weights, handler; eppProfile checks types and instance names', () => {
  const profiles = parseLoadedProfiles(readFileSync(LLMD_LOG, 'utf8').split('\n'));
  expect(profiles).toEqual([
    {
      profile: 'default',
      filters: ['by-label-selector'],
      scorers: ['active-request-scorer'],
      picker: 'max-score-picker',
      names: ['by-kv-backend', 'active-request-scorer', 'max-score-picker'],
      weights: { 'active-request-scorer': 1 },
      handler: 'single-profile-handler',
    },
  ]);
  const gaie = parseLoadedProfiles(readFileSync(GAIE_LOG, 'utf8').split('\n'));
  expect(gaie[0]?.weights).toEqual({ 'queue-scorer': 2, 'kv-cache-utilization-scorer': 2, 'prefix-cache-scorer': 3 });
  const obs = { httpRoutes: [], inferencePools: [], eppLoadedProfiles: profiles };
  expect(eppProfile({ lacks: ['by-label-selector'] }, obs)).toMatchObject({ ok: false });
  expect(eppProfile({ has: ['by-kv-backend', 'active-request-scorer'] }, obs)).toMatchObject({ ok: true });
});

test('pod IP timeline: a pod replaced by chaos keeps its old address mapping for lines logged while it ran', () => {
  const t = new PodIpTimeline();
  const pod = (name: string, ip: string, start: string) => ({
    metadata: {
      name,
      namespace: 'ns',
      labels: { 'pod-template-hash': '5d9c7b7f6' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'px-5d9c7b7f6', controller: true }],
    },
    status: { podIP: ip, startTime: start },
  });
  t.observe(pod('px-5d9c7b7f6-aaaaa', '10.0.0.5', '2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:00:10Z') / 1000);
  t.observe(pod('px-5d9c7b7f6-aaaaa', '10.0.0.5', '2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:01:00Z') / 1000, true);
  // the replacement gets the same IP later
  t.observe(pod('px-5d9c7b7f6-bbbbb', '10.0.0.5', '2026-01-01T00:01:05Z'), Date.parse('2026-01-01T00:01:10Z') / 1000);
  expect(t.resolve('10.0.0.5:8080', Date.parse('2026-01-01T00:00:30Z') / 1000)).toEqual({ pod: 'ns/px-5d9c7b7f6-aaaaa', workload: 'px' });
  expect(t.resolve('10.0.0.5:8080', Date.parse('2026-01-01T00:02:00Z') / 1000)).toEqual({ pod: 'ns/px-5d9c7b7f6-bbbbb', workload: 'px' });
  expect(t.resolve('10.0.0.9:8080')).toBeUndefined();
  const list = timelineFromPodList(JSON.parse(readFileSync(PODS, 'utf8')));
  expect(list.resolve('[fd00:10:42::23]:8080')).toEqual({ pod: 'llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w', workload: 'vllm-fs-proxy' });
  expect(workloadOfPod({ metadata: { name: 'vllm-prefill-p2p' } })).toBe('vllm-prefill-p2p');
  expect(() => timelineFromPodList({ kind: 'Service' })).toThrow(/kubectl get pods -A -o json/);
});

function record(i: number, prefill: string | undefined, status = 200): RequestRecord {
  return {
    index: i,
    startMs: i,
    latencyMs: 1,
    bytes: 10,
    status,
    ...(prefill ? { responseId: `cmpl-___prefill_addr_${prefill}:14579___decode_addr_x_${i}` } : {}),
  } as unknown as RequestRecord;
}
function load(records: RequestRecord[]): LoadResult {
  return { engine: 'builtin', startedAt: '', records, summary: {} as LoadResult['summary'] };
}
const WORKLOADS = { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 };

test("proxiesChosen: the stock request log with the run's pod IPs is the source and is cross-checked against proxy responses", () => {
  const lines = readFileSync(GAIE_LOG, 'utf8').split('\n');
  const podIps = timelineFromPodList(JSON.parse(readFileSync(PODS, 'utf8'))).all();
  const responses = load([
    ...Array.from({ length: 9 }, (_, i) => record(i, 'vllm-prefill-p2p')),
    ...Array.from({ length: 10 }, (_, i) => record(20 + i, 'vllm-prefill-fs')),
  ]);
  const v = proxiesChosen(WORKLOADS, { httpRoutes: [], inferencePools: [], eppLogLines: lines, podIps, load: responses });
  expect(v.ok, v.summary).toBe(true);
  expect(v.summary).toBe('vllm-p2p-proxy 9 / vllm-fs-proxy 10 of 20 picks (each ≥ 20.0%); source: EPP request log (-v=3)');
  // a disagreement beyond the tolerance is its own failure
  const skewed = load(Array.from({ length: 20 }, (_, i) => record(i, 'vllm-prefill-p2p')));
  const bad = proxiesChosen(WORKLOADS, { httpRoutes: [], inferencePools: [], eppLogLines: lines, podIps, load: skewed });
  expect(bad.ok).toBe(false);
  expect(bad.summary).toContain('disagree with the EPP request log (-v=3) split');
});

test('proxiesChosen: without per-request EPP lines the proxy responses are the source; without those, one actionable line', () => {
  const startOnly = readFileSync(GAIE_LOG, 'utf8')
    .split('\n')
    .filter((l) => l.includes('parsed config'));
  const responses = load([
    ...Array.from({ length: 6 }, (_, i) => record(i, 'vllm-prefill-p2p')),
    ...Array.from({ length: 5 }, (_, i) => record(10 + i, 'vllm-prefill-fs')),
  ]);
  const v = proxiesChosen(WORKLOADS, { httpRoutes: [], inferencePools: [], eppLogLines: startOnly, load: responses });
  expect(v.summary).toBe('vllm-p2p-proxy 6 / vllm-fs-proxy 5 of 11 picks (each ≥ 20.0%); source: proxy responses');
  const none = proxiesChosen(WORKLOADS, {
    httpRoutes: [],
    inferencePools: [],
    eppLogLines: startOnly,
    load: load([record(1, undefined), record(2, undefined)]),
  });
  expect(none.ok).toBe(false);
  expect(none.summary).toMatch(
    /^no pick evidence: .*set -v=3 \(SchedulerInstall spec\.epp\.verbosity\) or use the instrumented image; 2 successful responses carried no proxy identity/,
  );
});

const CONFIG = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: by-label-selector
  name: by-kv-backend
  parameters: { matchLabels: { llm-d.ai/kv-backend: nvlink } }
- type: active-request-scorer
- type: max-score-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: by-kv-backend
  - pluginRef: active-request-scorer
    weight: 1
  - pluginRef: max-score-picker
`;

test("the twin EPP writes the stock lines in the fixtures' format (keys in order, values as the analyzer reads them)", () => {
  const s = buildScheduler(parseEppConfig(CONFIG));
  const keys = (l: string) => [...l.matchAll(/"([\w-]+)":/g)].map((m) => m[1]);
  const fixtureLines = readFileSync(GAIE_LOG, 'utf8').split('\n');
  const fixtureHandled = fixtureLines.find((l) => l.includes('"Request handled"'))!;
  const req = { requestId: 'r1', model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', promptLength: 5, headers: {} };
  const twinHandled = requestHandledLine(req, ['10.42.0.17:8080', '[fd00::7]:8000'], Date.parse('2026-12-06T05:01:00.500Z'));
  expect(keys(twinHandled)).toEqual(keys(fixtureHandled));
  expect(twinHandled).toContain('"level":"Level(-3)","ts":"2026-12-06T05:01:00Z","caller":"requestcontrol/director.go:266"');
  expect(countDecisions([twinHandled]).byEndpoint).toEqual({ '10.42.0.17:8080': 1, '[fd00::7]:8000': 1 });
  const fixtureErr = fixtureLines.find((l) => l.includes('Error handling request'))!;
  expect(
    keys(
      errorHandlingRequestLine(
        req,
        "inference gateway: InferencePoolResourceExhausted - failed to find target pod: failed to run scheduler profile 'default'",
      ),
    ),
  ).toEqual(keys(fixtureErr));
  // the start line: the same as the llm-d fixture's for the same config
  const fixtureStart = JSON.parse(
    readFileSync(LLMD_LOG, 'utf8')
      .split('\n')[0]!
      .replace(/^\S+ \S+ /, ''),
  );
  const twinStart = JSON.parse(parsedConfigLine(s, Date.parse('2026-12-06T05:00:00Z')));
  expect(twinStart).toEqual(fixtureStart);
  // modes: instrumented writes decisions (and Request handled at -v>=3); stock only Request handled at -v>=3
  const endpoint = {
    namespace: 'ns',
    name: 'p-1',
    address: 'fd00::7',
    port: 8000,
    labels: {},
    key: 'ns/p-1',
    logName: 'ns/p-1-rank-0',
    hostPort: '[fd00::7]:8000',
    metrics: { waiting: 0, running: 0, kvCacheUsage: 0, updatedAt: 0 },
    inFlight: 0,
  };
  // the log lines read only the primary profile's picks (`selected`), not the profiles' outcome
  const r = {
    ok: true as const,
    candidates: [endpoint],
    raw: [new Float64Array([1])],
    totals: new Float64Array([1]),
    selected: [endpoint],
    outcome: undefined as never,
  } as unknown as Parameters<typeof pickLines>[3];
  const msgs = (mode: { instrumented: boolean; verbosity: number }) => pickLines(mode, s, req, r).map((l) => JSON.parse(l).msg);
  expect(msgs({ instrumented: true, verbosity: 1 })).toEqual(['Scoring decision', 'Scoring breakdown']);
  expect(msgs({ instrumented: true, verbosity: 3 })).toEqual(['Scoring decision', 'Scoring breakdown', 'Request handled']);
  expect(msgs({ instrumented: false, verbosity: 3 })).toEqual(['Request handled']);
  expect(msgs({ instrumented: false, verbosity: 1 })).toEqual([]);
  expect(pickLines({ instrumented: false, verbosity: 3 }, s, req, r)[0]).toContain('"endpoint":"[fd00::7]:8000"');
});

import { expect, test } from '@playwright/test';
import { Readable } from 'node:stream';
import {
  analyzeStream,
  analyzeStreamDetailed,
  countDecisions,
  createDecisionCounter,
  LINE_MARKERS,
  parseLoadedProfiles,
  parseScoringBreakdown,
} from '../../analysis/epp-decisions.ts';
import { forEachLine } from '../../analysis/line-splitter.ts';
import { parseTimestamp, splitPrefixes } from '../../analysis/log-line.ts';
import { formatDecisionTable } from '../../analysis/decision-table.ts';
import { asDecisionCounts, generateEppLog, type EppLogOptions } from '../helpers/epp-log-gen.ts';

const NOISY: EppLogOptions = {
  seed: 7,
  decisions: 400,
  otherJson: 120,
  nonJson: 60,
  blank: 15,
  decoyDecisions: 16,
  exhausted: 9,
  profileFailed: 6,
  bothFailures: 3,
  multiSelectEvery: 9,
};

for (const prefix of ['none', 'timestamps', 'pod', 'both', 'mixed'] as const) {
  test(`exact counts on a noisy log with prefix mode "${prefix}"`, () => {
    const { lines, expected } = generateEppLog({ ...NOISY, prefix });
    expect(countDecisions(lines)).toEqual(asDecisionCounts(expected));
  });
}

test('the seed validation split: 32 p2p / 28 fs picks', () => {
  const line = (ep: string, i: number) =>
    `{"level":"info","ts":1732500000.${i},"msg":"Scoring decision","request_id":"r${i}","model":"m","prompt_len":12,"picker":"max-score-picker/max-score-picker","selected":["${ep}"],"scores":[]}`;
  const lines = [
    ...Array.from({ length: 32 }, (_, i) => line('llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0', i)),
    ...Array.from({ length: 28 }, (_, i) => line('llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w-rank-0', i)),
  ];
  const counts = countDecisions(lines);
  expect(counts.decisions).toBe(60);
  expect(counts.byWorkload).toEqual({ 'vllm-p2p-proxy': 32, 'vllm-fs-proxy': 28 });
  expect(Object.keys(counts.byWorkload)).toEqual(['vllm-p2p-proxy', 'vllm-fs-proxy']);
});

test('several selected endpoints in one decision are each counted; pods of one workload merge', () => {
  const counts = countDecisions([
    '{"msg":"Scoring decision","selected":["ns/a-proxy-5d9c7b7f6-x2k4q-rank-0","ns/b-proxy-7c6b8d9f4-m8z2w-rank-0"]}',
    '{"msg":"Scoring decision","selected":["ns/a-proxy-6f8d4c7b9-q7n5t-rank-0"]}',
    '{"msg":"Scoring decision","selected":[{"name":"ns/b-proxy-7c6b8d9f4-m8z2w-rank-0"},"10.0.0.7:8080"]}',
  ]);
  expect(counts.decisions).toBe(3);
  expect(counts.byEndpoint).toEqual({
    'ns/b-proxy-7c6b8d9f4-m8z2w-rank-0': 2,
    'ns/a-proxy-5d9c7b7f6-x2k4q-rank-0': 1,
    'ns/a-proxy-6f8d4c7b9-q7n5t-rank-0': 1,
    '10.0.0.7:8080': 1,
  });
  expect(counts.byWorkload).toEqual({ 'a-proxy': 2, 'b-proxy': 2, '10.0.0.7:8080': 1 });
});

test('failures are counted from JSON fields and plain text, blank lines are ignored', () => {
  const counts = countDecisions([
    '{"level":"error","msg":"x","error":"inference gateway: InferencePoolResourceExhausted - failed to find target pod"}',
    '{"level":"error","msg":"failed to run scheduler profile","profile":"default"}',
    '{"level":"error","msg":"y","err":"failed to run scheduler profile default: InferencePoolResourceExhausted"}',
    'E1125 01:29:04.000000 1 scheduler.go:98] Failed to run scheduler profile default',
    '',
    '   ',
    'hello',
  ]);
  expect(counts.failures).toEqual({ InferencePoolResourceExhausted: 2, failedToRunSchedulerProfile: 3 });
  expect(counts.decisions).toBe(0);
  expect(counts.skippedLines).toBe(1);
});

test('--since-ts semantics: older lines are ignored, lines without a timestamp kept', () => {
  const old = generateEppLog({ ...NOISY, seed: 1, prefix: 'timestamps', startTs: 1732400000 });
  const recent = generateEppLog({ ...NOISY, seed: 2, prefix: 'none', startTs: 1732500000 });
  const counts = countDecisions([...old.lines, ...recent.lines], { sinceTs: 1732450000 });
  // The recent log's non-JSON noise has no timestamp and is kept; everything from the old log has one.
  expect(counts).toEqual(asDecisionCounts(recent.expected));
  // ISO ts in JSON works too.
  const iso = countDecisions(
    [
      '{"ts":"2024-11-25T01:00:00.000000001Z","msg":"Scoring decision","selected":["ns/old-x2k4q"]}',
      '{"ts":"2024-11-25T03:00:00Z","msg":"Scoring decision","selected":["ns/new-x2k4q"]}',
    ],
    { sinceTs: Date.parse('2024-11-25T02:00:00Z') / 1000 },
  );
  expect(iso.byWorkload).toEqual({ new: 1 });
});

test('prefixes: kubectl --timestamps and --prefix in both orders', () => {
  const body = '{"msg":"x"}';
  expect(splitPrefixes(`2024-11-25T01:29:00.123456789Z ${body}`)).toEqual({
    body,
    prefixTs: Date.parse('2024-11-25T01:29:00.123Z') / 1000,
  });
  expect(splitPrefixes(`[pod/epp-6b8f9c7d5-tq9zx/epp] 2024-11-25T01:29:00Z ${body}`).body).toBe(body);
  expect(splitPrefixes(`2024-11-25T01:29:00Z [pod/epp-6b8f9c7d5-tq9zx/epp] ${body}`).body).toBe(body);
  expect(splitPrefixes(`(epp-6b8f9c7d5-tq9zx) ${body}\r`).body).toBe(body);
  expect(splitPrefixes('(APIServer pid=1) text').body).toBe('(APIServer pid=1) text');
  expect(parseTimestamp(1732500000123)).toBeCloseTo(1732500000.123, 3);
  expect(parseTimestamp('nope')).toBeUndefined();
});

test('loaded profiles from the twin JSON start line and from text', () => {
  const profiles = parseLoadedProfiles([
    '{"level":"info","ts":1732500000.123,"logger":"scheduler","msg":"Loaded scheduling profile","profile":"default","Filters":[],"Scorers":["active-request-scorer"],"Picker":"max-score-picker"}',
    '[pod/epp/epp] {"level":"info","msg":"Loaded scheduling profile","profile":"pd","Filters":["by-label-selector/by-kv-backend"],"Scorers":["queue-scorer","kv-cache-utilization-scorer"],"Picker":"max-score-picker/max-score-picker"}',
    'I1125 main.go:1] Loaded profile default Filters: [by-label-selector] Scorers: [active-request-scorer, queue-scorer] Picker: random-picker',
    '{"msg":"Scoring decision","selected":[]}',
  ]);
  expect(profiles).toEqual([
    { profile: 'default', filters: [], scorers: ['active-request-scorer'], picker: 'max-score-picker' },
    { profile: 'pd', filters: ['by-label-selector'], scorers: ['queue-scorer', 'kv-cache-utilization-scorer'], picker: 'max-score-picker' },
    { profile: 'default', filters: ['by-label-selector'], scorers: ['active-request-scorer', 'queue-scorer'], picker: 'random-picker' },
  ]);
});

test('the streaming counter also collects loaded profiles', async () => {
  const { lines } = generateEppLog({ decisions: 5 });
  const res = await analyzeStreamDetailed(Readable.from([lines.join('\n')]));
  expect(res.counts.decisions).toBe(5);
  expect(res.loadedProfiles).toEqual([{ profile: 'default', filters: [], scorers: ['active-request-scorer'], picker: 'max-score-picker' }]);
});

test('scoring breakdown: generator shape, array shape, and non-breakdown lines', () => {
  const { lines } = generateEppLog({ decisions: 1, loadedProfile: false });
  const b = parseScoringBreakdown(lines[0] ?? '');
  expect(b?.requestId).toBe('req-00000001');
  expect(b?.promptLen).toBe(41);
  expect(Object.keys(b?.scorers ?? {})).toEqual(['active-request-scorer']);
  expect(b?.scorers['active-request-scorer']?.weight).toBe(1);
  expect(Object.values(b?.weighted ?? {}).sort()).toEqual([0.5, 1]);
  const arr = parseScoringBreakdown(
    '2024-11-25T01:29:00Z {"msg":"Scoring breakdown","request_id":"r1","model":"m","prompt_len":9,"scorers":[{"scorer":"queue-scorer","weight":2,"scores":["ns/a=0.250","ns/b=1.000"]}],"weighted_scores":["ns/a=0.5","ns/b=2"]}',
  );
  expect(arr).toEqual({
    requestId: 'r1',
    model: 'm',
    promptLen: 9,
    scorers: { 'queue-scorer': { weight: 2, scores: { 'ns/a': 0.25, 'ns/b': 1 } } },
    weighted: { 'ns/a': 0.5, 'ns/b': 2 },
  });
  expect(parseScoringBreakdown(lines[1] ?? '')).toBeUndefined();
});

test('line splitter: chunk boundaries anywhere, CRLF, no final newline, multi-byte characters split across chunks', async () => {
  const text = 'a\r\nbé\n\nlast-ü';
  const bytes = Buffer.from(text);
  for (let cut = 1; cut < bytes.length; cut++) {
    const lines: string[] = [];
    await forEachLine(Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]), (l) => lines.push(l));
    expect(lines).toEqual(['a\r', 'bé', '', 'last-ü']);
  }
});

test('line splitter: overlong lines are cut, not buffered whole', async () => {
  const lines: string[] = [];
  const long = 'x'.repeat(100);
  await forEachLine(Readable.from([long.slice(0, 30), long.slice(30), '\nshort\n']), (l) => lines.push(l), 16);
  expect(lines).toEqual(['x'.repeat(16), 'short']);
});

test('analyzeStream gives the same counts as the in-memory counter across arbitrary chunking', async () => {
  const { lines, expected } = generateEppLog({ ...NOISY, prefix: 'mixed', seed: 11 });
  const text = lines.join('\n');
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 997) chunks.push(text.slice(i, i + 997));
  expect(await analyzeStream(Readable.from(chunks))).toEqual(asDecisionCounts(expected));
});

test('LINE_MARKERS: push treats a line without any of them as skipped (or blank), so it need not be decoded', () => {
  const lines = [
    ...(['none', 'timestamps', 'pod', 'both', 'mixed'] as const).flatMap(
      (prefix) => generateEppLog({ ...NOISY, prefix, bothFailures: 3 }).lines,
    ),
    'I1125 main.go:1] Loaded profile default Filters: [by-label-selector] Scorers: [queue-scorer] Picker: random-picker',
    'E1125 01:29:04.000000 1 scheduler.go:98] Failed to run scheduler profile default',
    '{"level":"error","msg":"y","err":"failed to run scheduler profile default: InferencePoolResourceExhausted"}',
    '\u00a0',
    '\r',
  ];
  let unmarked = 0;
  for (const line of lines) {
    if (LINE_MARKERS.some((m) => line.includes(m))) continue;
    unmarked++;
    const pushed = createDecisionCounter();
    pushed.push(line);
    const plain = createDecisionCounter();
    if (line.trim() !== '') plain.pushPlain(1);
    expect({ counts: pushed.result(), profiles: pushed.loadedProfiles() }, line).toEqual({
      counts: plain.result(),
      profiles: plain.loadedProfiles(),
    });
  }
  expect(unmarked).toBeGreaterThan(lines.length / 2);
});

test('analyzeStream on byte chunks of odd sizes, CRLF and a last line without newline: same counts as the in-memory counter', async () => {
  const { lines, expected } = generateEppLog({ ...NOISY, prefix: 'mixed', seed: 12 });
  for (const eol of ['\n', '\r\n']) {
    const bytes = Buffer.from(lines.join(eol));
    for (const size of [1021, 4096, 65536]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(await analyzeStream(Readable.from(chunks))).toEqual(asDecisionCounts(expected));
    }
  }
  const detailed = await analyzeStreamDetailed(Readable.from([Buffer.from(lines.join('\r\n'))]));
  expect(detailed.loadedProfiles).toEqual(parseLoadedProfiles(lines));
});

test('pushPlain cannot be used with sinceTs (plain lines carry no timestamp)', () => {
  expect(() => createDecisionCounter({ sinceTs: 1 }).pushPlain(1)).toThrow(/sinceTs/);
});

test('result() is a snapshot: pushing more lines later does not change an earlier result', () => {
  const c = createDecisionCounter();
  c.push('{"msg":"Scoring decision","selected":["ns/a-x2k4q"]}');
  const first = c.result();
  c.push('{"msg":"Scoring decision","selected":["ns/a-x2k4q"]}');
  expect(first.decisions).toBe(1);
  expect(c.result().byWorkload).toEqual({ a: 2 });
});

test('text table: aligned columns with shares of all picks', () => {
  const out = formatDecisionTable({
    decisions: 60,
    byEndpoint: { 'ns/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0': 32, 'ns/vllm-fs-proxy-7c6b8d9f4-m8z2w-rank-0': 28 },
    byWorkload: { 'vllm-p2p-proxy': 32, 'vllm-fs-proxy': 28 },
    failures: { InferencePoolResourceExhausted: 0, failedToRunSchedulerProfile: 1 },
    skippedLines: 3,
  });
  expect(out).toContain('WORKLOAD        PICKS  SHARE\nvllm-p2p-proxy     32  53.3%\nvllm-fs-proxy      28  46.7%');
  expect(out).toMatch(/failed to run scheduler profile +1/);
  expect(out).toContain('decisions: 60');
});

test('scoring breakdown: the twin EPP per-endpoint shape', () => {
  const line =
    '{"level":"info","ts":1732500000.5,"msg":"Scoring breakdown","request_id":"r9","model":"m","prompt_len":33,"profile":"default","endpoints":[{"endpoint":"ns/a","total":1,"scorers":{"active-request-scorer":{"raw":1,"weight":1,"weighted":1}}},{"endpoint":"ns/b","total":0.5,"scorers":{"active-request-scorer":{"raw":0.5,"weight":1,"weighted":0.5}}}]}';
  expect(parseScoringBreakdown(line)).toEqual({
    requestId: 'r9',
    model: 'm',
    promptLen: 33,
    scorers: { 'active-request-scorer': { weight: 1, scores: { 'ns/a': 1, 'ns/b': 0.5 } } },
    weighted: { 'ns/a': 1, 'ns/b': 0.5 },
  });
});

import { expect, test } from '@playwright/test';
import { closeSync, createReadStream, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { analyzeFile, idleCoresBetween, isPlainLogFile, parseProcStat, readCpuTicks } from '../../analysis/epp-decisions-file.ts';
import {
  analyzeStreamDetailed,
  COUNT_MARKERS,
  type CounterState,
  countsOf,
  createDecisionCounter,
  emptyCounterState,
  mergeCounterStates,
  type StreamAnalysis,
} from '../../analysis/epp-decisions.ts';
import { lineAlignedBounds } from '../../analysis/file-ranges.ts';
import { MAX_LINE_LENGTH } from '../../analysis/line-splitter.ts';
import { createLineScanner, type Marker, type Needle } from '../../analysis/marked-lines.ts';
import { seededRandom } from '../../k8s-rules/prng.ts';
import { generateEppLog, type EppLogOptions } from '../helpers/epp-log-gen.ts';

const NOISY: EppLogOptions = {
  seed: 21,
  decisions: 300,
  otherJson: 120,
  nonJson: 60,
  blank: 15,
  decoyDecisions: 16,
  exhausted: 9,
  profileFailed: 6,
  bothFailures: 3,
  multiSelectEvery: 7,
  prefix: 'mixed',
};
const STOCK = readFileSync('test/fixtures/epp-logs/stock-gaie-v1.2.0.log', 'utf8').split('\n');

/** Lines that make a byte-level scanner work: multi-byte text, odd whitespace, long lines, escaped keys. */
const EDGE_LINES = [
  'I1125 café — 日本語 😀 sidecar line',
  '😀 a Scoring decision in plain text',
  '\u00a0',
  '\u3000{"msg":"Scoring decision","selected":["ns/ideographic-space-x2k4q"]}',
  ' \t ',
  '\v',
  '   {"level":"info","msg":"Scoring decision","selected":["llm-d-vllm/indented-7c6b8d9f4-m8z2w-rank-0"]}',
  `{"level":"info","msg":"Scoring decision","selected":["llm-d-vllm/long-5d9c7b7f6-x2k4q-rank-0"],"pad":"${'é'.repeat(40_000)}"}`,
  `plain ${'z'.repeat(70_000)} InferencePoolResourceExhausted`,
  `plain ${'q'.repeat(90_000)}`,
  '{"level":"Level(-3)","msg":"Request handled","\\u0065ndpoint":"10.42.0.99:8000"}',
  '{"level":"Level(-3)","msg":"Request handled","status":200}',
  '{"level":"Level(-3)","msg":"Request handled","endpoint":"10.42.0.98:8000,[fd00::98]:8000"}',
  'I1206 05:01:02.123456       1 director.go:266] "Request handled" objectiveKey="" targetModel="m" endpoint="10.42.0.97:8080"',
  '{"level":"info","msg":"Loaded scheduling profile","profile":"extra","Filters":[],"Scorers":["queue-scorer"],"Picker":"random-picker"}',
];

/** A shuffled mix of instrumented, stock and edge lines (the order is deterministic). */
function mixedLines(seed: number): string[] {
  const lines = [...generateEppLog({ ...NOISY, seed }).lines, ...STOCK, ...EDGE_LINES];
  const rand = seededRandom(seed);
  for (let i = lines.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
  }
  return lines;
}

let dir = '';
test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pd-epp-file-'));
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The streaming analyzer (stdin's path, one thread, arbitrary chunks) on the same file: the reference. */
async function sequential(file: string): Promise<StreamAnalysis> {
  return analyzeStreamDetailed(createReadStream(file, { highWaterMark: 4093 }));
}

test('blocks on worker threads give exactly the sequential counts: CRLF, no final newline, multi-byte text, long lines', async () => {
  test.setTimeout(180_000);
  let n = 0;
  for (const [eol, finalNewline] of [
    ['\n', true],
    ['\r\n', false],
    ['\n', false],
    ['\r\n', true],
  ] as const) {
    const file = join(dir, `mixed-${n}.log`);
    const lines = mixedLines(100 + n++);
    writeFileSync(file, lines.join(eol) + (finalNewline ? eol : ''));
    const reference = await sequential(file);
    // the log holds every kind of line the counts distinguish
    expect(reference.counts.decisions).toBeGreaterThan(300);
    expect(reference.counts.requestLog?.lines).toBeGreaterThan(18);
    expect(reference.counts.failures.InferencePoolResourceExhausted).toBeGreaterThan(12);
    expect(reference.loadedProfiles.length).toBeGreaterThan(1);
    // reads far shorter than the long lines, blocks that start inside lines, blocks inside one long line
    for (const [threads, readBytes, blockBytes] of [
      [1, 997, 3001],
      [1, 65536, 3001],
      [2, 997, 3001],
      [3, 4096, 50_000],
      [5, 997, 1009],
    ] as const) {
      const opts = { threads, minParallelBytes: 0, readBytes, blockBytes };
      const got = await analyzeFile(file, { ...opts, profiles: true });
      expect(got, `${JSON.stringify(opts)}, eol ${JSON.stringify(eol)}`).toEqual(reference);
      if (threads === 1) continue;
      // every block counted on the worker threads
      const workers = await analyzeFile(file, { ...opts, takeBlocksHere: false });
      expect(workers.counts).toEqual(reference.counts);
    }
    // the default: this thread alone first, workers added after a block as many as the idle cores (measured,
    // or given here: 1 idle core at once, 3 after two blocks too soon to tell, none)
    const auto = { minParallelBytes: 0, readBytes: 997, blockBytes: 3001, profiles: true };
    expect(await analyzeFile(file, auto)).toEqual(reference);
    expect(await analyzeFile(file, { ...auto, idleProbe: () => () => 1 })).toEqual(reference);
    const late = () => {
      let asked = 0;
      return () => (++asked < 3 ? undefined : 3);
    };
    expect(await analyzeFile(file, { ...auto, idleProbe: late })).toEqual(reference);
    expect(await analyzeFile(file, { ...auto, idleProbe: () => () => 0 })).toEqual(reference);
  }
});

test('range bounds are line starts, split lines that cross the nominal cut points, and cover every line once', () => {
  const lines = mixedLines(7);
  const text = `${lines.join('\n')}\n`;
  const file = join(dir, 'bounds.log');
  writeFileSync(file, text);
  const bytes = Buffer.from(text);
  const fd = openSync(file, 'r');
  try {
    for (const n of [1, 2, 3, 4, 7, 16]) {
      const bounds = lineAlignedBounds(fd, bytes.length, n);
      expect(bounds.length).toBe(n + 1);
      expect(bounds[0]).toBe(0);
      expect(bounds[n]).toBe(bytes.length);
      let moved = 0;
      for (let i = 1; i < n; i++) {
        const b = bounds[i] as number;
        expect(b).toBeGreaterThanOrEqual(bounds[i - 1] as number);
        // a line start: just after a newline (or the end)
        expect(b === bytes.length || bytes[b - 1] === 10, `bound ${b}`).toBe(true);
        if (b !== Math.floor((bytes.length * i) / n)) moved++;
      }
      // the nominal cut points fell inside lines, which stayed whole in the range where they start
      if (n > 1) expect(moved).toBeGreaterThan(0);
      const pieces: string[] = [];
      for (let i = 0; i < n; i++) pieces.push(bytes.subarray(bounds[i], bounds[i + 1]).toString('utf8'));
      expect(pieces.join('')).toBe(text);
      expect(pieces.flatMap((p) => (p === '' ? [] : p.slice(0, -1).split('\n'))).length).toBe(lines.length);
    }
  } finally {
    closeSync(fd);
  }
});

test('a line longer than a whole range, more threads than lines, an empty file', async () => {
  const file = join(dir, 'one-long.log');
  const long = `{"level":"info","msg":"Scoring decision","selected":["ns/a-x2k4q"],"pad":"${'x'.repeat(300_000)}"}`;
  writeFileSync(file, `${long}\nshort line\n{"msg":"Scoring decision","selected":["ns/b-x2k4q"]}`);
  const reference = await sequential(file);
  expect(reference.counts).toMatchObject({ decisions: 2, skippedLines: 1 });
  for (const threads of [2, 4]) {
    for (const blockBytes of [1000, 100_000]) {
      expect(await analyzeFile(file, { threads, minParallelBytes: 0, blockBytes, profiles: true })).toEqual(reference);
    }
  }
  const empty = join(dir, 'empty.log');
  writeFileSync(empty, '');
  expect(await analyzeFile(empty, { threads: 3, minParallelBytes: 0, blockBytes: 10 })).toEqual(await sequential(empty));
});

test('a line over the line limit is counted too long on every path, also when it is exactly the limit', async () => {
  test.setTimeout(120_000);
  const file = join(dir, 'over-limit.log');
  const exact = 'a'.repeat(MAX_LINE_LENGTH);
  const over = `{"msg":"Scoring decision","selected":["ns/c-x2k4q"],"pad":"${'b'.repeat(MAX_LINE_LENGTH)}"}`;
  writeFileSync(file, ['first', exact, over, '{"msg":"Scoring decision","selected":["ns/d-x2k4q"]}', 'last'].join('\n'));
  const reference = await sequential(file);
  expect(reference.counts).toMatchObject({ decisions: 1, skippedTooLong: 2, skippedLines: 4 });
  for (const threads of [1, 3]) {
    expect(await analyzeFile(file, { threads, minParallelBytes: 0, readBytes: 65536, blockBytes: 500_000, profiles: true })).toEqual(
      reference,
    );
  }
});

test('COUNT_MARKERS: to the counts, a line without them is a skipped (or blank) line, so it need not be decoded', () => {
  const has = (line: string, n: Needle): boolean => line.includes(typeof n === 'string' ? n : n.text);
  const marked = (line: string, m: Marker): boolean =>
    typeof m === 'object' && 'needle' in m ? has(line, m.needle) && m.with.some((w) => has(line, w)) : has(line, m);
  const lines = [...mixedLines(3), 'x "Request handled" without the field', '\r'];
  let unmarked = 0;
  for (const line of lines) {
    if (COUNT_MARKERS.some((m) => marked(line, m))) continue;
    unmarked++;
    const pushed = createDecisionCounter();
    pushed.push(line);
    const plain = createDecisionCounter();
    if (line.trim() !== '') plain.pushPlain(1);
    expect(pushed.result(), line).toEqual(plain.result());
  }
  expect(unmarked).toBeGreaterThan(lines.length / 3);
  // the escaped key is a stock line with an endpoint: it must have been marked
  const escaped = createDecisionCounter();
  escaped.push(EDGE_LINES[10] as string);
  expect(escaped.result().requestLog?.byAddress).toEqual({ '10.42.0.99:8000': 1 });
});

test('merged counter states equal one counter over the whole log, wherever it is cut', () => {
  // request lines first, decisions later: the first part alone reports the request log as its source
  const lines = [...STOCK, ...mixedLines(5)];
  const whole = createDecisionCounter();
  for (const l of lines) whole.push(l);
  expect(whole.result().source).toBe('decisions');
  for (const cut of [0, 1, 10, STOCK.length, 500, lines.length]) {
    const parts = [lines.slice(0, cut), lines.slice(cut)].map((part) => {
      const c = createDecisionCounter();
      for (const l of part) c.push(l);
      return c.state();
    });
    if (cut === STOCK.length) expect(countsOf(parts[0] as CounterState).source).toBe('request-log');
    const merged = mergeCounterStates(parts);
    expect(countsOf(merged), `cut at ${cut}`).toEqual(whole.result());
    expect(merged.profiles).toEqual(whole.loadedProfiles());
    // one counter reset between the parts (as countBlocks does) gives the same parts
    const reused = createDecisionCounter();
    const states = [lines.slice(0, cut), lines.slice(cut)].map((part) => {
      for (const l of part) reused.push(l);
      const st = reused.state();
      reused.reset();
      expect(reused.state()).toEqual(emptyCounterState());
      return st;
    });
    expect(states).toEqual(parts);
  }
});

test('isPlainLogFile: a regular file yes; gzip, a directory, a missing file no', () => {
  const plain = join(dir, 'plain.log');
  writeFileSync(plain, 'x\n');
  const gz = join(dir, 'log.gz');
  writeFileSync(gz, gzipSync('x\n'));
  expect(isPlainLogFile(plain)).toBe(true);
  expect(isPlainLogFile(gz)).toBe(false);
  expect(isPlainLogFile(dir)).toBe(false);
  expect(isPlainLogFile(join(dir, 'missing.log'))).toBe(false);
});

test('idle cores from /proc/stat: the idle share of the ticks between two readings, times the cores', () => {
  // Linux proc(5): cpu user nice system idle iowait irq softirq steal guest guest_nice
  const before = parseProcStat('cpu  100 5 50 1000 20 0 3 0 0 0\ncpu0 50 2 25 500 10 0 1 0 0 0\n');
  expect(before).toEqual({ idle: 1020, total: 1178 });
  expect(parseProcStat('cpu  1 2 3\n')).toBeUndefined();
  expect(parseProcStat('no such line')).toBeUndefined();
  const after = (busy: number, idle: number) => ({ idle: 1020 + idle, total: 1178 + busy + idle });
  // 2 cores, 20 ticks: this thread busy all along (10) and the other core idle -> one idle core
  expect(idleCoresBetween(before!, after(10, 10), 2)).toBe(1);
  // the other core busy too -> none
  expect(idleCoresBetween(before!, after(20, 0), 2)).toBe(0);
  // the other core idle 8 of its 10 ticks counts; 7 of 10 or half of them does not
  expect(idleCoresBetween(before!, after(13, 7), 2)).toBe(0);
  expect(idleCoresBetween(before!, after(12, 8), 2)).toBe(1);
  expect(idleCoresBetween(before!, after(15, 5), 2)).toBe(0);
  // fewer than two ticks per core: too short to tell
  expect(idleCoresBetween(before!, after(2, 1), 2)).toBeUndefined();
  // on Linux the real file parses
  if (process.platform === 'linux') expect(readCpuTicks()?.total).toBeGreaterThan(0);
});

test('one line scanner for several inputs: after finish() the next input is counted on its own, a cut line included', () => {
  const inputs = [mixedLines(31).join('\n'), 'a line\n\n  \nlast line without newline', mixedLines(32).join('\r\n') + '\r\n', ''];
  const delivered: string[] = [];
  const reused = createLineScanner(COUNT_MARKERS, (l) => delivered.push(l));
  for (const text of inputs) {
    const fresh: string[] = [];
    const alone = createLineScanner(COUNT_MARKERS, (l) => fresh.push(l));
    const bytes = Buffer.from(text);
    for (let at = 0; at < bytes.length; at += 997) alone.scan(bytes.subarray(at, at + 997));
    delivered.length = 0;
    for (let at = 0; at < bytes.length; at += 1009) reused.scan(bytes.subarray(at, at + 1009));
    expect(reused.finish()).toEqual(alone.finish());
    expect(delivered).toEqual(fresh);
  }
});

import { expect, test } from '@playwright/test';
import { Readable } from 'node:stream';
import { forEachLine } from '../../analysis/line-splitter.ts';
import { forEachMarkedLine, type MarkedLineCounts } from '../../analysis/marked-lines.ts';
import { seededRandom } from '../../k8s-rules/prng.ts';

const MARKERS = ['Scoring decision', 'Exhausted'];
const hasMarker = (line: string): boolean => MARKERS.some((m) => line.includes(m));

interface Scan extends MarkedLineCounts {
  delivered: string[];
}

async function scan(chunks: readonly (Buffer | string)[], maxLineLength?: number): Promise<Scan> {
  const delivered: string[] = [];
  const counts = await forEachMarkedLine(Readable.from(chunks), MARKERS, (l) => delivered.push(l), maxLineLength);
  return { ...counts, delivered };
}

/** Every way of cutting `bytes` into two chunks (and the whole as one). */
function twoChunkings(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes]];
  for (let cut = 1; cut < bytes.length; cut++) out.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  return out;
}

/**
 * The scan agrees with `forEachLine` on the same chunks: the same number of lines, every line with a
 * marker delivered once and in order, text identical; every other non-blank line either delivered or in `plain`.
 */
async function expectAgreesWithSplitter(chunks: readonly (Buffer | string)[], maxLineLength?: number): Promise<Scan> {
  const all: string[] = [];
  const total = await forEachLine(Readable.from(chunks), (l) => all.push(l), maxLineLength);
  const res = await scan(chunks, maxLineLength);
  expect(res.lines).toBe(total);
  expect(res.delivered.filter(hasMarker)).toEqual(all.filter(hasMarker));
  const plainDelivered = res.delivered.filter((l) => !hasMarker(l) && l.trim() !== '').length;
  expect(res.plain + plainDelivered).toBe(all.filter((l) => !hasMarker(l) && l.trim() !== '').length);
  // delivered lines are a subsequence of the splitter's lines: nothing invented or delivered twice
  let i = 0;
  for (const line of res.delivered) {
    while (i < all.length && all[i] !== line) i++;
    expect(i, `delivered line not in the splitter's output (or out of order): ${JSON.stringify(line)}`).toBeLessThan(all.length);
    i++;
  }
  return res;
}

test('a marker split across two read chunks is found once, at every split point', async () => {
  const text = 'plain one\n{"msg":"Scoring decision","selected":["ns/a"]}\nplain two\n';
  for (const chunks of twoChunkings(Buffer.from(text))) {
    const res = await expectAgreesWithSplitter(chunks);
    expect(res).toEqual({ lines: 3, plain: 2, delivered: ['{"msg":"Scoring decision","selected":["ns/a"]}'] });
  }
});

test('a line longer than the read chunk size: marked ones delivered whole, plain ones counted once', async () => {
  const marked = `${'a'.repeat(5000)} Scoring decision ${'b'.repeat(5000)}`;
  const plain = 'c'.repeat(7000);
  const bytes = Buffer.from(`${plain}\n${marked}\n${plain}\nshort\n`);
  for (const size of [1, 7, 1000, 4096]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const res = await expectAgreesWithSplitter(chunks);
    expect(res).toEqual({ lines: 4, plain: 3, delivered: [marked] });
  }
});

test('lines over maxLineLength are cut exactly as forEachLine cuts them, marker or not', async () => {
  const text = `${'x'.repeat(40)}\n${'é'.repeat(30)}Scoring decision\nExhausted${'z'.repeat(30)}\nok\n`;
  for (const chunks of twoChunkings(Buffer.from(text))) {
    const res = await expectAgreesWithSplitter(chunks, 16);
    // the first marker is cut off, the second survives the cut
    expect(res.delivered).toEqual(['x'.repeat(16), 'é'.repeat(16), `Exhausted${'z'.repeat(7)}`]);
    expect(res.plain).toBe(1);
  }
});

test('a file without a trailing newline: the last line is delivered or counted', async () => {
  for (const chunks of twoChunkings(Buffer.from('one\nlast Scoring decision'))) {
    expect(await expectAgreesWithSplitter(chunks)).toEqual({ lines: 2, plain: 1, delivered: ['last Scoring decision'] });
  }
  for (const chunks of twoChunkings(Buffer.from('Exhausted\nlast plain'))) {
    expect(await expectAgreesWithSplitter(chunks)).toEqual({ lines: 2, plain: 1, delivered: ['Exhausted'] });
  }
  expect(await scan([])).toEqual({ lines: 0, plain: 0, delivered: [] });
  expect(await scan([Buffer.alloc(0), Buffer.from('x'), Buffer.alloc(0)])).toEqual({ lines: 1, plain: 1, delivered: [] });
});

test('blank lines are neither delivered nor counted; whitespace trim() knows but ASCII does not is decided by trim()', async () => {
  const text = '\n \n\t\t\n\r\n\v\f \r\n\u00a0\n\u3000x\n\ufeff\n a\n';
  for (const chunks of twoChunkings(Buffer.from(text))) {
    const res = await expectAgreesWithSplitter(chunks);
    expect(res.lines).toBe(9);
    expect(res.plain).toBe(1); // ' a'
    expect(res.delivered).toEqual(['\u00a0', '\u3000x', '\ufeff']);
  }
});

test('CRLF: the \\r stays on delivered lines (as forEachLine leaves it) and CRLF lines are counted once', async () => {
  const text = 'plain\r\n{"msg":"Scoring decision"}\r\n\r\nExhausted\r\nlast\r';
  for (const chunks of twoChunkings(Buffer.from(text))) {
    const res = await expectAgreesWithSplitter(chunks);
    expect(res).toEqual({ lines: 5, plain: 2, delivered: ['{"msg":"Scoring decision"}\r', 'Exhausted\r'] });
  }
});

test('multi-byte characters split by a chunk boundary on a delivered line decode intact', async () => {
  const line = 'é€😀 Scoring decision ü — 日本 😀';
  const bytes = Buffer.from(`aé\n${line}\nbü\n`);
  for (const chunks of twoChunkings(bytes)) {
    expect(await expectAgreesWithSplitter(chunks)).toEqual({ lines: 3, plain: 2, delivered: [line] });
  }
  // three chunks too: every 1-byte chunking of the line's neighbourhood
  const ones = [...bytes].map((b) => Buffer.from([b]));
  expect((await scan(ones)).delivered).toEqual([line]);
});

test('text chunks: a surrogate pair split between two string chunks is joined', async () => {
  const line = 'Exhausted 😀😀';
  for (let cut = 1; cut < line.length; cut++) {
    const res = await scan([`${line.slice(0, cut)}`, `${line.slice(cut)}\nx\n`]);
    expect(res).toEqual({ lines: 2, plain: 1, delivered: [line] });
  }
});

test('plain Uint8Array chunks (web streams) are searched like Buffers', async () => {
  const bytes = Buffer.from('a\nScoring decision\nb\n');
  const res = await scan([new Uint8Array(bytes.subarray(0, 20)), new Uint8Array(bytes.subarray(20))] as unknown as Buffer[]);
  expect(res).toEqual({ lines: 3, plain: 2, delivered: ['Scoring decision'] });
});

test('markers must be ASCII without newlines', async () => {
  await expect(forEachMarkedLine(Readable.from([]), ['é'], () => {})).rejects.toThrow(/ASCII/);
  await expect(forEachMarkedLine(Readable.from([]), ['a\nb'], () => {})).rejects.toThrow(/ASCII/);
  await expect(forEachMarkedLine(Readable.from([]), [''], () => {})).rejects.toThrow(/ASCII/);
});

test('random byte soup in random chunks agrees with forEachLine', async () => {
  const rand = seededRandom(20261125);
  const pieces = [
    'Scoring decision',
    'Scoring',
    ' decision',
    'Exh',
    'austed',
    'Exhausted',
    'plain',
    ' ',
    '\t',
    '\r',
    '\n',
    '\n',
    '\n',
    'é',
    '€',
    '😀',
    '\u00a0',
    '\ufeff',
    '\v',
    '{"msg":"x"}',
    '\u2028',
  ];
  const invalid = [Buffer.from([0xe2, 0x82]), Buffer.from([0xff]), Buffer.from([0xc3])];
  for (let round = 0; round < 200; round++) {
    const parts: Buffer[] = [];
    const n = 1 + Math.floor(rand() * 60);
    for (let i = 0; i < n; i++) {
      parts.push(
        rand() < 0.05
          ? (invalid[Math.floor(rand() * invalid.length)] as Buffer)
          : Buffer.from(pieces[Math.floor(rand() * pieces.length)] as string),
      );
    }
    const bytes = Buffer.concat(parts);
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length;) {
      const size = 1 + Math.floor(rand() * 24);
      chunks.push(bytes.subarray(i, i + size));
      i += size;
    }
    await expectAgreesWithSplitter(chunks, rand() < 0.3 ? 12 : undefined);
  }
});

test('anchored needles: a line is marked where the whole text is, at every split point; the anchor alone marks nothing', async () => {
  const marker = { text: 'InferencePoolResourceExhausted', anchor: 'Exhausted' };
  const conditional = { needle: 'Request handled', with: [{ text: 'endpoint', anchor: 'point' }] };
  const text =
    'x Exhausted only\n{"err":"InferencePoolResourceExhausted"}\nPoolResourceExhausted\n' +
    '"Request handled" point\n"Request handled" endpoint="10.0.0.1:80"\nendpoint and no request\n';
  for (const chunks of twoChunkings(Buffer.from(text))) {
    const delivered: string[] = [];
    const counts = await forEachMarkedLine(Readable.from(chunks), [marker, conditional], (l) => delivered.push(l));
    expect(counts).toEqual({ lines: 6, plain: 4 });
    expect(delivered).toEqual(['{"err":"InferencePoolResourceExhausted"}', '"Request handled" endpoint="10.0.0.1:80"']);
  }
  await expect(forEachMarkedLine(Readable.from([]), [{ text: 'abc', anchor: 'x' }], () => {})).rejects.toThrow(/anchor/);
});

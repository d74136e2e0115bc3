import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { linesAfterMark } from '../../cluster/log-mark.ts';
import { CriLogWriter, criTimestamp, formatCriLine } from '../../twin/runtime/cri-log.ts';

const l = (t: string, text: string) => `2026-12-07T09:00:0${t}.000000001Z ${text}`;

test('lines after the mark: from the current log, across one restart, or lost', () => {
  const mark = l('1', 'picked a');
  expect(linesAfterMark(mark, [l('0', 'start'), mark, l('2', 'picked b')], [])).toEqual({ lines: [l('2', 'picked b')] });
  expect(linesAfterMark(undefined, [l('2', 'new pod')], [])).toEqual({ lines: [l('2', 'new pod')] });
  // the mark's own text logged again later does not move it: the whole line, timestamp included, is the mark
  expect(linesAfterMark(mark, [mark, l('3', 'picked a')], [])).toEqual({ lines: [l('3', 'picked a')] });
  // restarted: the old container's lines after the mark, then all of the new one's
  expect(linesAfterMark(mark, [l('5', 'restarted')], [mark, l('2', 'picked b')])).toEqual({
    lines: [l('2', 'picked b'), l('5', 'restarted')],
  });
  // rotated away (or restarted twice): neither log holds the mark
  expect(linesAfterMark(mark, [l('7', 'picked c')], [l('4', 'other')])).toEqual({ lost: true });
});

test('the twin rotates a container log past its size, as the kubelet does, and keeps at most maxFiles files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdh-crirot-'));
  try {
    const file = path.join(dir, '0.log');
    const w = new CriLogWriter(file, { maxSizeBytes: 200, maxFiles: 3 });
    for (let i = 0; i < 40; i++) w.write('stdout', `line ${String(i).padStart(2, '0')} of forty\n`);
    w.close();
    const names = fs.readdirSync(dir).sort();
    expect(names[0]).toBe('0.log');
    expect(names.length, 'the current file and maxFiles - 1 rotated ones').toBe(3);
    for (const n of names.slice(1)) expect(n).toMatch(/^0\.log\.\d{8}-\d{6}(\.\d+)?$/);
    for (const n of names) expect(fs.statSync(path.join(dir, n)).size).toBeLessThanOrEqual(200 + 60);
    // what is kept is the newest lines, in order, ending with the last one
    const kept = names
      .slice(1)
      .sort((a, b) => fs.statSync(path.join(dir, a)).mtimeMs - fs.statSync(path.join(dir, b)).mtimeMs || a.localeCompare(b))
      .concat('0.log')
      .flatMap((n) => fs.readFileSync(path.join(dir, n), 'utf8').split('\n').filter(Boolean))
      .map((line) => line.split(' ').slice(3).join(' '));
    expect(kept.at(-1)).toBe('line 39 of forty');
    expect(kept.length).toBeLessThan(40);
    expect(kept).toEqual(kept.map((_, i) => `line ${String(40 - kept.length + i).padStart(2, '0')} of forty`));

    // a file that reaches the size exactly is rotated too (the kubelet keeps a log only while Size() < MaxSize)
    const exact = path.join(dir, 'exact', '0.log');
    const oneLine = Buffer.byteLength(formatCriLine(criTimestamp(), 'stdout', 'exactly one line'));
    const e = new CriLogWriter(exact, { maxSizeBytes: oneLine, maxFiles: 2 });
    e.write('stdout', 'exactly one line\n');
    e.close();
    expect(fs.readdirSync(path.dirname(exact)).length).toBe(2);
    expect(fs.readFileSync(exact, 'utf8')).toBe('');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

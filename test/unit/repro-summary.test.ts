import { test, expect } from '@playwright/test';
import { answerQuestion, cellRow, errorsByKind, summarizeCampaign, summaryMarkdown, type CellOutcome } from '../../chaos/repro/summary.ts';
import type { Connector } from '../../suites/schema.ts';
import { cellId } from '../../chaos/repro/matrix.ts';

function outcome(
  connector: Connector,
  promptTokens: number,
  clientTimeoutMs: number,
  crashes: number,
  extra: Partial<CellOutcome> = {},
): CellOutcome {
  const cell = { connector, concurrency: 4, promptTokens, clientTimeoutMs, requests: 20 };
  return {
    cell: { id: cellId(cell), ...cell },
    seed: 11,
    injected: connector === 'p2p',
    requests: 20,
    byStatus: { '200': 20 - crashes * 3, ...(crashes ? { '500': crashes * 3 } : {}) },
    errors: {},
    crashes,
    otherRestarts: 0,
    bundles: crashes ? [cellId(cell)] : [],
    ...extra,
  };
}

const meta = { campaign: 'c-seed1', suiteFile: 'suites/x.suite.yaml', seed: 1, target: 'twin', startedAt: 't0', finishedAt: 't1' };

test('errorsByKind lists non-2xx statuses and transport errors', () => {
  expect(errorsByKind({ byStatus: { '200': 5, '500': 2, '429': 1, '404': 0 }, errors: { timeout: 3, reset: 0 } })).toEqual({
    'http-500': 2,
    'http-429': 1,
    timeout: 3,
  });
});

test('crash rate per cell is crashes per request sent', () => {
  expect(cellRow(outcome('p2p', 1500, 300, 1)).crashRate).toBe(0.05);
  expect(cellRow(outcome('p2p', 1500, 300, 0, { requests: 0 })).crashRate).toBe(0);
  expect(cellRow(outcome('fs', 64, 35_000, 0)).clientTimeout).toBe('35s');
});

test('P2P crashes with FS tested and clean: P2P-only, and the triggering load values', () => {
  const s = summarizeCampaign(meta, [
    outcome('p2p', 64, 300, 0),
    outcome('p2p', 1500, 300, 2),
    outcome('p2p', 1500, 35_000, 1),
    outcome('fs', 64, 300, 0),
    outcome('fs', 1500, 300, 0),
  ]);
  expect(s.totals).toEqual({ cells: 5, cellsWithCrash: 2, crashes: 3, requests: 100, crashRate: 0.03 });
  expect(s.byConnector.p2p).toEqual({ cells: 3, cellsWithCrash: 2, crashes: 3, requests: 60, crashRate: 0.05 });
  expect(s.byConnector.fs).toEqual({ cells: 2, cellsWithCrash: 0, crashes: 0, requests: 40, crashRate: 0 });
  expect(s.byDimension.promptTokens['1500']).toEqual({ cells: 3, cellsWithCrash: 2, crashes: 3, requests: 60, crashRate: 0.05 });
  expect(s.answer.p2pOnly).toBe('yes');
  expect(s.answer.crashingCells).toEqual(['p2p-c4-p1500-t300ms', 'p2p-c4-p1500-t35s']);
  // Among P2P cells (the connector that crashed): 1500 tokens crashed, 64 did not.
  expect(s.answer.triggers.promptTokens).toEqual({ crashed: ['1500'], clean: ['64'] });
  expect(s.answer.triggers.clientTimeout).toEqual({ crashed: ['300ms', '35s'], clean: [] });
  expect(s.answer.text).toContain('P2P only: 3 crash(es) in 2/3 P2P cell(s), none in 2 FS cell(s) (40 request(s))');
});

test('the answer when FS crashes too, when nothing crashes, and when FS was not tested', () => {
  expect(answerQuestion([cellRow(outcome('p2p', 64, 300, 1)), cellRow(outcome('fs', 64, 300, 1))]).p2pOnly).toBe('no');
  expect(answerQuestion([cellRow(outcome('p2p', 64, 300, 0)), cellRow(outcome('fs', 64, 300, 2))]).text).toMatch(/^FS only/);
  const none = answerQuestion([cellRow(outcome('p2p', 64, 300, 0)), cellRow(outcome('fs', 64, 300, 0))]);
  expect(none.p2pOnly).toBe('unknown');
  expect(none.text).toContain('No crash in 2 cell(s), 40 request(s)');
  const onlyP2p = answerQuestion([cellRow(outcome('p2p', 64, 300, 1))]);
  expect(onlyP2p.p2pOnly).toBe('unknown');
  expect(onlyP2p.text).toContain('FS was not in the matrix');
});

test('the Markdown has the answer, one table row per cell and links to the bundles', () => {
  const md = summaryMarkdown(
    summarizeCampaign(meta, [outcome('p2p', 1500, 300, 1, { latencyMs: { p50: 120, p95: 300 } }), outcome('fs', 1500, 300, 0)]),
  );
  expect(md).toContain('**Answer:** P2P only');
  expect(md).toContain('| p2p-c4-p1500-t300ms | p2p | 4 | 1500 | 300ms | yes | 20 | 1 | 5.0% | 0 | http-500: 3 | 120 / 300 ms |');
  expect(md).toContain('| fs-c4-p1500-t300ms | fs | 4 | 1500 | 300ms | no | 20 | 0 | 0.0% | 0 | - | - |');
  expect(md).toContain('- [p2p-c4-p1500-t300ms](p2p-c4-p1500-t300ms/bundle.json)');
  expect(md).toContain('| p2p | 1 | 1 | 1 | 20 | 5.0% |');
});

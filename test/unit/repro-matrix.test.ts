import { test, expect } from '@playwright/test';
import { compileRequests } from '../../load/builtin/template.ts';
import { ReproSchema } from '../../suites/schema.ts';
import {
  CHARS_PER_TOKEN,
  cellBoundMs,
  cellId,
  cellLoadPlan,
  cellSeed,
  durationLabel,
  expandMatrix,
  findCell,
  overLongCells,
  promptTemplate,
} from '../../chaos/repro/matrix.ts';

const matrix = ReproSchema.parse({
  connectors: ['p2p', 'fs'],
  concurrency: [4],
  promptTokens: [64, 1500],
  clientTimeout: ['300ms', '35s'],
  requestsPerCell: 20,
});

test('expands connector x concurrency x prompt x timeout into stable, ordered cell ids', () => {
  const cells = expandMatrix(matrix);
  expect(cells.map((c) => c.id)).toEqual([
    'p2p-c4-p64-t300ms',
    'p2p-c4-p64-t35s',
    'p2p-c4-p1500-t300ms',
    'p2p-c4-p1500-t35s',
    'fs-c4-p64-t300ms',
    'fs-c4-p64-t35s',
    'fs-c4-p1500-t300ms',
    'fs-c4-p1500-t35s',
  ]);
  expect(cells[2]).toEqual({
    id: 'p2p-c4-p1500-t300ms',
    connector: 'p2p',
    concurrency: 4,
    promptTokens: 1500,
    clientTimeoutMs: 300,
    requests: 20,
  });
  expect(expandMatrix(matrix)).toEqual(cells);
});

test('duplicate values give one cell; duration labels are the shortest exact spelling', () => {
  const m = ReproSchema.parse({
    connectors: ['p2p', 'p2p'],
    concurrency: [1],
    promptTokens: [8],
    clientTimeout: ['1s', '1000ms', '1500ms', '2m', '90s'],
    requestsPerCell: 1,
  });
  expect(expandMatrix(m).map((c) => c.id)).toEqual(['p2p-c1-p8-t1s', 'p2p-c1-p8-t1500ms', 'p2p-c1-p8-t2m', 'p2p-c1-p8-t90s']);
  expect(durationLabel(300)).toBe('300ms');
  expect(durationLabel(60_000)).toBe('1m');
  expect(cellId({ connector: 'fs', concurrency: 12, promptTokens: 2000, clientTimeoutMs: 35_000 })).toBe('fs-c12-p2000-t35s');
});

test('findCell names the cells there are when the id is unknown', () => {
  const cells = expandMatrix(matrix);
  expect(findCell(cells, 'fs-c4-p64-t35s').connector).toBe('fs');
  expect(() => findCell(cells, 'p2p-c8-p64-t35s')).toThrow(/no cell "p2p-c8-p64-t35s".*p2p-c4-p64-t300ms/);
});

test('cell seeds depend on the campaign seed and the cell id only', () => {
  expect(cellSeed(1, 'p2p-c4-p1500-t300ms')).toBe(cellSeed(1, 'p2p-c4-p1500-t300ms'));
  expect(cellSeed(1, 'p2p-c4-p1500-t300ms')).not.toBe(cellSeed(2, 'p2p-c4-p1500-t300ms'));
  expect(cellSeed(1, 'p2p-c4-p1500-t300ms')).not.toBe(cellSeed(1, 'fs-c4-p1500-t300ms'));
  expect(Number.isInteger(cellSeed(1, 'x')) && cellSeed(1, 'x') >= 0).toBe(true);
});

test('prompts are about promptTokens tokens at 4 characters per token, seeded, and differ per request', () => {
  for (const tokens of [16, 64, 1500]) {
    const render = compileRequests(
      cellLoadPlan({ id: 'x', connector: 'p2p', concurrency: 1, promptTokens: tokens, clientTimeoutMs: 1000, requests: 1 }, 5),
    );
    const prompt = (JSON.parse(render(17).body ?? '{}') as { prompt: string }).prompt;
    const estimate = Math.ceil(prompt.length / CHARS_PER_TOKEN);
    expect(Math.abs(estimate - tokens)).toBeLessThanOrEqual(2);
    expect(prompt.startsWith('request 17: ')).toBe(true);
  }
  expect(promptTemplate(64, 1)).toBe(promptTemplate(64, 1));
  expect(promptTemplate(64, 1)).not.toBe(promptTemplate(64, 2));
});

test('the cell plan goes through the A/B route with the connector header, the client timeout and a bound', () => {
  const cells = expandMatrix(matrix);
  const p2p = cellLoadPlan(findCell(cells, 'p2p-c4-p1500-t300ms'), 1);
  expect(p2p).toMatchObject({ requests: 20, concurrency: 4, timeoutMs: 300, request: { method: 'POST', path: '/v1/completions' } });
  expect(p2p.request.headers['x-kv-backend']).toBe('nvlink');
  expect(cellLoadPlan(findCell(cells, 'fs-c4-p64-t35s'), 1).request.headers['x-kv-backend']).toBe('fs');
  // 5 waves of at most 35 s + 1 s, plus slack.
  expect(cellBoundMs(findCell(cells, 'fs-c4-p64-t35s'))).toBe(5 * 36_000 + 10_000);
  expect(p2p.maxDurationMs).toBe(cellBoundMs(findCell(cells, 'p2p-c4-p1500-t300ms')));
});

test('cells over max-model-len are pointed out', () => {
  const m = ReproSchema.parse({
    connectors: ['p2p'],
    concurrency: [1],
    promptTokens: [1500, 2040],
    clientTimeout: ['1s'],
    requestsPerCell: 1,
  });
  expect(overLongCells(expandMatrix(m)).map((c) => c.id)).toEqual(['p2p-c1-p2040-t1s']);
});

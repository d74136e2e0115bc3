import { chromium, expect, test, type Browser } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { AddressInfo } from 'node:net';
import { generateReport } from '../../cli/report-cli.ts';
import { runSample } from '../unit/report-sample-run.ts';

/**
 * The generated Allure HTML, opened in Debian's chromium: a real sample run (report-sample-run.ts) →
 * `pd-harness report` twice (history carried) → served on 127.0.0.1 → suites, category, chart render.
 */
test.describe.configure({ mode: 'serial' });

const CHROMIUM = '/usr/bin/chromium';
const FAILED_CATEGORY = 'InferencePoolResourceExhausted (EPP left no candidate)';

let dir = '';
let reportDir = '';
let server: Server | undefined;
let baseUrl = '';
let browser: Browser | undefined;

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

function serve(root: string): Promise<Server> {
  const srv = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    const file = resolve(root, `.${path.endsWith('/') ? `${path}index.html` : path}`);
    if (!(file === root || file.startsWith(root + sep)) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ok) => srv.listen(0, '127.0.0.1', () => ok(srv)));
}

test.beforeAll(async () => {
  test.setTimeout(280_000);
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (apt-get install chromium); .ci/run does this in CI`);
  dir = mkdtempSync(join(tmpdir(), 'pd-browser-'));
  const run = await runSample(join(dir, 'run'));
  expect(run.exitCode, run.output).toBe(1);
  reportDir = join(dir, 'allure-report');
  // two consecutive reports at the same place: the second carries the first's history
  const first = await generateReport({ results: run.resultsDir, out: reportDir });
  expect(first.historyFiles).toBe(0);
  const second = await generateReport({ results: run.resultsDir, out: reportDir });
  expect(second.historyFiles).toBeGreaterThan(0);
  server = await serve(reportDir);
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

test.afterAll(async () => {
  await browser?.close();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('history carried: the second report trends two runs', () => {
  const trend = JSON.parse(readFileSync(join(reportDir, 'widgets', 'history-trend.json'), 'utf8')) as { data: { total: number } }[];
  expect(trend).toHaveLength(2);
  expect(trend.map((t) => t.data.total)).toEqual([3, 3]);
});

test('overview shows the environment and the failure under its category; screenshot kept', async ({}, testInfo) => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.goto(baseUrl);
    await expect(page.getByText('Categories', { exact: false }).first()).toBeVisible();
    await expect(page.getByText(FAILED_CATEGORY).first()).toBeVisible();
    await expect(page.getByText('gateway.url', { exact: true }).first()).toBeVisible();
    await expect(page.getByText('pd-harness.version').first()).toBeVisible();
    await expect(page.getByText('proxy-performance-by-backend-expecting-both').first()).toBeVisible(); // features widget
    await testInfo.attach('allure overview', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  } finally {
    await page.close();
  }
});

test('suites list every sample suite; the chart attachment renders as an SVG image', async ({}, testInfo) => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.goto(`${baseUrl}#suites`);
    const tree = page.locator('.side-by-side__left');
    await tree.getByText('conformance', { exact: true }).first().click(); // parentSuite: the project
    await tree.getByText('sample.spec.ts', { exact: true }).first().click(); // suite: the spec file
    for (const name of ['proxy-performance', 'proxy-performance-by-backend-expecting-both', 'ab-static-routing']) {
      await expect(tree.getByText(name, { exact: true }).first()).toBeVisible();
    }
    await tree.getByText('proxy-performance', { exact: true }).first().click();
    const chart = page.getByText('EPP pick split.svg').first();
    await expect(chart).toBeVisible();
    await chart.click();
    const img = page.locator('.attachment-preview_svg img').first();
    await expect(img).toBeVisible();
    await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await testInfo.attach('allure test with chart', { body: await page.screenshot({ fullPage: true }), contentType: 'image/png' });
  } finally {
    await page.close();
  }
});

test('the category page lists the failing suite', async () => {
  const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
  try {
    await page.goto(`${baseUrl}#categories`);
    const tree = page.locator('.side-by-side__left');
    await tree.getByText(FAILED_CATEGORY).first().click();
    await tree
      .getByText(/^Error: proxiesChosen: no Scoring decision/)
      .first()
      .click(); // grouped by message
    await expect(tree.getByText('proxy-performance-by-backend-expecting-both', { exact: true }).first()).toBeVisible();
    await expect(tree.getByText('Harness error')).toHaveCount(0);
  } finally {
    await page.close();
  }
});

import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { currentBuild } from '../../common/build.mjs';

/**
 * Runs a Node program with a resolve hook chained after any other (Playwright's TypeScript loader) that records
 * every module the process resolves: its result and the distinct module URLs. `args` gets a temp dir of its own
 * (removed afterwards) for whatever state the program keeps.
 */
async function recordImports(args: (dir: string) => string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'record-imports-'));
  try {
    const file = join(dir, 'imports.txt');
    const r = await execa(process.execPath, args(dir), {
      reject: false,
      env: {
        RECORD_IMPORTS_FILE: file,
        NODE_OPTIONS: `--import ${resolve('test/helpers/record-imports/register.mjs')}`,
        PD_HARNESS_SUITE: '',
      },
    });
    const urls = [
      ...new Set(
        readFileSync(file, 'utf8')
          .split('\n')
          .map((l) => l.split(' ')[1] ?? ''),
      ),
    ];
    return { r, urls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Issue 18: listing the suite projects (what Playwright's main process does before any test, and again in
 * every `pd-harness run`) loads only the specs, fixtures, suites and criteria: the twin, the runner, the
 * cluster driver and @kubernetes/client-node load in a worker, when a test needs them. Asserted on the
 * modules the listing process resolved, not on time.
 */
test('listing the conformance, chaos and repro projects loads neither the twin, the runner nor client-node', async () => {
  const { r, urls } = await recordImports(() => [
    resolve('node_modules/@playwright/test/cli.js'),
    'test',
    '--list',
    '--project=conformance',
    '--project=chaos',
    '--project=repro',
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  // the listing itself: every shipped suite is a test (so the check below looked at a real listing)
  for (const suite of ['proxy-performance', 'chaos-decode-kill', 'repro-decode-index-error']) expect(r.stdout).toContain(`› ${suite}`);
  expect(
    urls.some((u) => u.endsWith('/fixtures/index.ts')),
    'the recorder saw the fixtures load',
  ).toBe(true);
  const heavy = urls.filter((u) =>
    /@kubernetes\/client-node|\/twin\/|\/runner\/(?!timeouts\.ts)|\/cluster\/driver\.ts|\/load\/builtin\/(?!template\.ts)/.test(u),
  );
  expect(heavy, 'modules loaded while listing').toEqual([]);
});

/** `twin status` (no twin running) and `twin down` read state files: neither loads the twin's servers nor client-node. */
test('twin status and twin down with no twin load neither the twin servers nor client-node', async () => {
  for (const command of ['status', 'down']) {
    const { r, urls } = await recordImports((dir) => [resolve('bin/pd-harness.js'), 'twin', command, '--state-dir', join(dir, 'twin')]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(command === 'status' ? /twin is not running/ : /no twin was running/);
    expect(
      urls.some((u) => /\/twin\/(state|launcher)\.[jt]s$/.test(u)),
      'the recorder saw the twin state module load',
    ).toBe(true);
    const heavy = urls.filter((u) => /client-node|\/twin\/(apiserver|kubelet|gateway|operator)\//.test(u));
    expect(heavy, `modules loaded by pd-harness twin ${command}`).toEqual([]);
  }
});

/**
 * `validate` plans a suite statically (write set, faults, guard): the API client loads only when a run connects, and
 * esbuild only when the k6 template must be compiled (the build is stale: `npm test` builds first).
 */
test('validate loads no API client and no esbuild', async () => {
  const { r, urls } = await recordImports(() => [resolve('bin/pd-harness.js'), 'validate', resolve('suites/chaos-decode-kill.suite.yaml')]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(
    urls.some((u) => /\/chaos\/faults\/pod-kill\.[jt]s$/.test(u)),
    'the recorder saw the fault planning load',
  ).toBe(true);
  expect(
    urls.some((u) => /\/load\/k6-script\/generate\.[jt]s$/.test(u)),
    'the recorder saw the k6 script generator load',
  ).toBe(true);
  expect(urls.filter((u) => /client-node|\/node_modules\/esbuild\//.test(u))).toEqual([]);
});

/**
 * Before it starts Playwright, every `pd-harness run` looks for cleanup journals of runs that died (cluster/recover.ts)
 * and generates its k6 script when the engine is k6: with no orphan journal the driver (client-node) does not load,
 * and with a fresh build the generator reads the build's template instead of loading esbuild to compile it.
 */
test("a run's checks before Playwright load client-node only for an orphan journal, and esbuild only for a stale build", async () => {
  const { dir, fresh } = currentBuild();
  expect(fresh, 'npm test builds first').toBe(true);
  const { r, urls } = await recordImports((tmp) => [
    '--input-type=module',
    '-e',
    `const { recoverOrphanJournals } = await import(${JSON.stringify(pathToFileURL(join(dir, 'cluster/recover.js')).href)});
     if ((await recoverOrphanJournals(${JSON.stringify(tmp)})).length !== 0) throw new Error('a journal was found');
     const { generateK6Script } = await import(${JSON.stringify(pathToFileURL(join(dir, 'load/k6-script/generate.js')).href)});
     const { loadSuite } = await import(${JSON.stringify(pathToFileURL(join(dir, 'suites/loader.js')).href)});
     const suite = loadSuite(${JSON.stringify(resolve('suites/proxy-performance.suite.yaml'))}).suite;
     process.stdout.write(generateK6Script(suite.spec.load, suite.metadata.name));`,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(r.stdout, 'the generated script').toMatch(/^import http from .k6\/http.;$/m);
  expect(urls.filter((u) => /client-node|\/node_modules\/esbuild\//.test(u))).toEqual([]);
});

/**
 * A declarative suite's run loads only the engine it uses: the runner loads the k6 runner (execa), the built-in
 * k6 runtime (ws and its modules) and k6-operator's runner when a load names their engine.
 */
test('loading the suite runner loads the built-in engine and none of the k6 engines', async () => {
  const { r, urls } = await recordImports(() => [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(pathToFileURL(resolve('runner/run-suite.ts')).href)});`,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  expect(
    urls.filter((u) => /\/runner\/load\.ts$|\/load\/builtin\/engine\.ts$/.test(u)),
    'the recorder saw the runner and the built-in engine load',
  ).toHaveLength(2);
  const engines = urls.filter((u) => /\/load\/(k6\/runner|k6-runtime\/run|k6-operator\/runner)\.ts$|\/node_modules\/(execa|ws)\//.test(u));
  expect(engines, 'engines loaded with the runner').toEqual([]);
});

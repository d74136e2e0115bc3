import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test, expect } from '@playwright/test';

/**
 * The compiled-JavaScript build (common/build.mjs) and the bin that runs it, on a small package made in a
 * temp folder: the real bin and build script, a two-module CLI. The bin must never run stale output.
 */
const REPO = join(import.meta.dirname, '..', '..');

/** The temp folders a test made (makePackage, the vendor root); removed once it is done, passed or failed. */
const roots: string[] = [];
test.afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function makePackage(): string {
  const root = mkdtempSync(join(tmpdir(), 'pdh-build-'));
  roots.push(root);
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  cpSync(join(REPO, 'bin', 'pd-harness.js'), join(root, 'bin', 'pd-harness.js'));
  cpSync(join(REPO, 'common', 'build.mjs'), join(root, 'common', 'build.mjs'));
  mkdirSync(join(root, 'cli'));
  mkdirSync(join(root, 'twin'));
  writeFileSync(join(root, 'twin', 'plain.mjs'), 'export const plain = "from-source-mjs";\n');
  writeFileSync(join(root, 'cli', 'words.ts'), 'export const word: string = "first";\n');
  writeFileSync(
    join(root, 'cli', 'main.ts'),
    'import { word } from "./words.ts";\nimport { plain } from "../twin/plain.mjs";\nconst ext: string = import.meta.url.slice(-3);\nconsole.log(`${word} ${plain} ${ext}`);\n',
  );
  // node_modules for esbuild: the repo's own.
  execFileSync('ln', ['-s', join(REPO, 'node_modules'), join(root, 'node_modules')]);
  // the vendored bundles as the checkout built them, fresh here too (same entries, packages and install):
  // a build in this package does not bundle them again
  execFileSync('ln', ['-s', join(REPO, 'vendor'), join(root, 'vendor')]);
  cpSync(join(REPO, 'dist', 'vendor'), join(root, 'dist', 'vendor'), { recursive: true });
  return root;
}

/** Runs `code` in a Node process where `m` is the package's common/build.mjs; its trimmed stdout. */
function prober(root: string) {
  return (code: string) =>
    execFileSync(
      process.execPath,
      ['--input-type=module', '-e', `const m = await import(${JSON.stringify(join(root, 'common', 'build.mjs'))}); ${code}`],
      { encoding: 'utf8' },
    ).trim();
}

function runBin(root: string) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'pd-harness.js')], { encoding: 'utf8' });
  return { out: r.stdout.trim(), err: r.stderr.trim(), code: r.status };
}

test('the bin compiles missing output once, runs compiled JavaScript, and rebuilds after an edit', () => {
  const root = makePackage();
  const first = runBin(root);
  expect(first.code).toBe(0);
  expect(first.err).toBe('pd-harness: the sources changed since the last build (or there is none): compiling into dist/ first');
  expect(first.out).toBe('first from-source-mjs .js'); // compiled main.js; the .mjs is imported from the sources

  const second = runBin(root);
  expect(second).toEqual({ out: 'first from-source-mjs .js', err: '', code: 0 });

  writeFileSync(join(root, 'cli', 'words.ts'), 'export const word: string = "second";\n');
  const third = runBin(root);
  expect(third.err).toContain('compiling into dist/ first');
  expect(third.out).toBe('second from-source-mjs .js');
});

test('a touched source makes the build stale; runnableModule then names the source, never the old output', async () => {
  const root = makePackage();
  const probe = prober(root);
  expect(probe(`await m.build(); console.log(m.runnableModule('cli/main.ts'))`)).toMatch(/dist\/[0-9a-f]{16}\/cli\/main\.js$/);
  const fp = probe('console.log(m.fingerprint())');
  expect(existsSync(join(root, 'dist', fp, '.complete'))).toBe(true);
  expect(readFileSync(join(root, 'dist', fp, 'cli', 'main.js'), 'utf8')).toContain('./words.js');

  const later = new Date(Date.now() + 5_000);
  utimesSync(join(root, 'cli', 'words.ts'), later, later);
  expect(probe('console.log(m.fingerprint())')).not.toBe(fp);
  expect(probe(`console.log(m.runnableModule('cli/main.ts'))`)).toBe(join(root, 'cli', 'main.ts'));
});

/** makePackage plus the files of the `epp-decisions` bundle (common/build.mjs BUNDLES): small stand-ins. */
function makeBundledPackage(): string {
  const root = makePackage();
  for (const d of ['cli/entries', 'analysis', 'cluster']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'cluster', 'driver.ts'), 'export const driver: string = "esm-" + import.meta.url.split(".").pop();\n');
  writeFileSync(
    join(root, 'analysis', 'range-worker.ts'),
    'import { parentPort } from "node:worker_threads";\nparentPort!.postMessage(`worker-${import.meta.url.split(".").pop()}`);\n',
  );
  writeFileSync(
    join(root, 'cli', 'entries', 'epp-decisions.ts'),
    [
      'import { Worker } from "node:worker_threads";',
      'import { word } from "../words.ts";',
      'const ext = import.meta.url.split(".").pop()!;',
      'const worker = new Worker(new URL(`./range-worker.${ext}`, import.meta.url));',
      'worker.once("message", (m: string) => {',
      '  void import("../../cluster/driver.ts").then(({ driver }) => console.log(`bundle ${word} ${ext} ${m} ${driver}`));',
      '});',
      '',
    ].join('\n'),
  );
  return root;
}

test('a bundled command runs its bundle while every file in it is unchanged, else the full build (rebuilt first)', () => {
  const root = makeBundledPackage();
  const run = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(root, 'bin', 'pd-harness.js'), ...args], { encoding: 'utf8' });
    return { out: r.stdout.trim(), err: r.stderr.trim(), code: r.status };
  };
  const compiling = 'pd-harness: the sources changed since the last build (or there is none): compiling into dist/ first';
  // no build yet: the full build is compiled (and the bundle with it), and that run is the full CLI's
  expect(run('epp-decisions')).toEqual({ out: 'first from-source-mjs .js', err: compiling, code: 0 });
  // the bundle: one CommonJS file; its worker next to it; the ESM-only part as an ES module next to it
  expect(run('epp-decisions')).toEqual({ out: 'bundle first cjs worker-cjs esm-mjs', err: '', code: 0 });
  expect(run('other')).toEqual({ out: 'first from-source-mjs .js', err: '', code: 0 });

  // a file the bundle holds changes: never the old bundle; the full build again, then the new bundle
  writeFileSync(join(root, 'cli', 'words.ts'), 'export const word: string = "second";\n');
  expect(run('epp-decisions')).toEqual({ out: 'second from-source-mjs .js', err: compiling, code: 0 });
  expect(run('epp-decisions').out).toBe('bundle second cjs worker-cjs esm-mjs');

  // the manifest names every input; touching one that only the ESM part holds makes the bundle stale too
  const manifest = JSON.parse(readFileSync(join(root, 'dist', 'bundles', 'epp-decisions.json'), 'utf8')) as { inputs: [string][] };
  expect(manifest.inputs.map(([f]) => f)).toEqual(
    expect.arrayContaining([
      'analysis/range-worker.ts',
      'cli/entries/epp-decisions.ts',
      'cli/words.ts',
      'cluster/driver.ts',
      'common/build.mjs',
    ]),
  );
  const later = new Date(Date.now() + 5_000);
  utimesSync(join(root, 'cluster', 'driver.ts'), later, later);
  expect(run('epp-decisions')).toEqual({ out: 'second from-source-mjs .js', err: compiling, code: 0 });
  expect(run('epp-decisions').out).toBe('bundle second cjs worker-cjs esm-mjs');

  // a source outside the bundle changes: the bundle stays fresh and runs
  writeFileSync(join(root, 'cli', 'unrelated.ts'), 'export const x = 1;\n');
  expect(run('epp-decisions')).toEqual({ out: 'bundle second cjs worker-cjs esm-mjs', err: '', code: 0 });
});

test('a program bundle (k6-cli) is what runnableProgram names while fresh, runs its own main, and is no bin command', () => {
  const root = makePackage();
  mkdirSync(join(root, 'load', 'k6'), { recursive: true });
  writeFileSync(
    join(root, 'load', 'k6', 'k6-cli.ts'),
    [
      'import { fileURLToPath } from "node:url";',
      'import { word } from "../../cli/words.ts";',
      'export function k6Main(argv: string[]): string { return `k6 ${word} ${argv.join(" ")}`; }',
      // its main runs when it is the process's program, as load/k6/k6-cli.ts does
      'if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(k6Main(process.argv.slice(2)) + " " + import.meta.url.split(".").pop());',
      '',
    ].join('\n'),
  );
  const probe = prober(root);
  // no build: the source, for tsx
  expect(probe(`console.log(m.runnableProgram('k6-cli'))`)).toBe(join(root, 'load', 'k6', 'k6-cli.ts'));
  const bundle = probe(`await m.build(); console.log(m.runnableProgram('k6-cli'))`);
  expect(bundle).toMatch(/dist\/bundles\/k6-cli\/[0-9a-f]{16}\/k6-cli\.cjs$/);
  // started by its path, the bundle runs its main; required, it only exports (the stand-in k6 calls k6Main)
  expect(execFileSync(process.execPath, [bundle, 'run', 'x.js'], { encoding: 'utf8' }).trim()).toBe('k6 first run x.js cjs');
  expect(
    probe(
      `const { createRequire } = await import('node:module'); console.log(createRequire(import.meta.url)(${JSON.stringify(bundle)}).k6Main(['version']))`,
    ),
  ).toBe('k6 first version');
  // the bin does not take `k6-cli` for a command with a bundle: the full CLI runs
  expect(spawnSync(process.execPath, [join(root, 'bin', 'pd-harness.js'), 'k6-cli'], { encoding: 'utf8' }).stdout.trim()).toBe(
    'first from-source-mjs .js',
  );
  // a file the bundle holds changes: never the old bundle (the source while the build is stale too)
  writeFileSync(join(root, 'cli', 'words.ts'), 'export const word: string = "second";\n');
  expect(probe(`console.log(m.runnableProgram('k6-cli'))`)).toBe(join(root, 'load', 'k6', 'k6-cli.ts'));
  const rebuilt = probe(`await m.build(); console.log(m.runnableProgram('k6-cli'))`);
  expect(rebuilt).not.toBe(bundle);
  expect(execFileSync(process.execPath, [rebuilt, 'run'], { encoding: 'utf8' }).trim()).toBe('k6 second run cjs');
});

test('pruning keeps a build that a running process holds (a twin host), and prunes it once the holder is gone', async () => {
  const root = makePackage();
  const probe = prober(root);
  const rebuild = (word: string) => {
    writeFileSync(join(root, 'cli', 'words.ts'), `export const word: string = "${word}";\n`);
    return probe(`const b = await m.build(); console.log(b.dir)`);
  };
  const first = rebuild('one');
  // held by this (live) process, as the twin's kubelet holds the build of its pod programs
  const { holdBuilds } = (await import(pathToFileURL(join(root, 'common', 'build.mjs')).href)) as typeof import('../../common/build.mjs');
  holdBuilds([join(first, 'cli', 'main.js'), join(root, 'cli', 'main.ts')], root);
  expect(existsSync(join(first, `.lease-${process.pid}`))).toBe(true);
  // held by a process that has exited since
  const second = rebuild('two');
  probe(`m.holdBuilds([${JSON.stringify(join(second, 'cli', 'main.js'))}])`);
  for (const w of ['three', 'four', 'five', 'six']) rebuild(w);
  expect(existsSync(join(first, '.complete')), 'the held build stays').toBe(true);
  expect(existsSync(second), 'the build whose holder is gone is pruned').toBe(false);
  expect(readdirSync(join(root, 'dist')).filter((d) => /^[0-9a-f]{16}$/.test(d))).toHaveLength(3 + 1);
});

test('a k6 template is built as a k6 script, byte for byte what the run-time transform of a stale build gives', async () => {
  const root = makePackage();
  mkdirSync(join(root, 'k6'));
  const source = [
    "import http from 'k6/http';",
    'interface Plan { url: string; n?: number }',
    "const plan: Plan = { url: 'http://127.0.0.1:1' };",
    'export default function (): void { http.get(plan.url ?? ""); }',
    '',
  ].join('\n');
  writeFileSync(join(root, 'k6', 'suite-load.ts'), source);
  const out = prober(root)(
    `const b = await m.build(); console.log(JSON.stringify({ dir: b.dir, file: m.k6TemplateScript('k6/suite-load.ts') }));`,
  );
  const { dir, file } = JSON.parse(out) as { dir: string; file: string };
  expect(file).toBe('k6/suite-load.k6.js');
  const built = readFileSync(join(dir, file), 'utf8');
  const { transformSync } = await import('esbuild');
  const { K6_TEMPLATE_TRANSFORM } = await import('../../common/build.mjs');
  expect(built).toBe(transformSync(source, { ...K6_TEMPLATE_TRANSFORM, sourcefile: 'suite-load.ts' }).code);
  expect(built).toContain('import http from "k6/http"');
  expect(built).not.toContain('interface');
});

test('#client-node is the vendored bundle of @kubernetes/client-node: one file, the same exports, working classes', async () => {
  const { buildVendor, vendorFresh } = await import('../../common/build.mjs');
  await buildVendor();
  expect(vendorFresh()).toBe(true);
  const url = import.meta.resolve('#client-node');
  expect(url).toMatch(/\/dist\/vendor\/client-node\.mjs$/);
  // the same names as the package (classes, APIs, helpers) and working classes: a KubeConfig loads a config
  const script = `
    const pkg = await import(${JSON.stringify(import.meta.resolve('@kubernetes/client-node'))});
    const vendored = await import(${JSON.stringify(url)});
    const kc = new vendored.KubeConfig();
    kc.loadFromString(JSON.stringify({ clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }], users: [{ name: 'u' }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' }));
    console.log(JSON.stringify({ pkg: Object.keys(pkg).sort(), vendored: Object.keys(vendored).sort(), server: kc.getCurrentCluster().server,
      api: kc.makeApiClient(vendored.CoreV1Api) instanceof vendored.CoreV1Api, exc: new vendored.ApiException(404, 'm', {}, {}).code }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as {
    pkg: string[];
    vendored: string[];
    server: string;
    api: boolean;
    exc: number;
  };
  expect(out.vendored).toEqual(out.pkg);
  expect(out.pkg.length).toBeGreaterThan(100);
  expect(out).toMatchObject({ server: 'https://127.0.0.1:6443', api: true, exc: 404 });
});

/** The names a vendored bundle's types file re-exports (`export { a, b } from '...'` lines), sorted. */
function declaredNames(rel: string): string[] {
  return [...readFileSync(join(REPO, rel), 'utf8').matchAll(/^export \{([^}]+)\} from/gm)]
    .flatMap((m) => m[1]!.split(',').map((n) => n.trim()))
    .filter(Boolean)
    .sort();
}

/** Runs `code` (an ES module body) in a fresh Node process in the checkout and returns what it printed, parsed as JSON. */
function runModule(code: string): unknown {
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', cwd: REPO }));
}

test('#zod, #cel and #yaml are one file each: the names of the package (zod) or of their entry (cel, yaml), working the same', async () => {
  const { buildVendor, vendorFresh } = await import('../../common/build.mjs');
  await buildVendor();
  expect(vendorFresh()).toBe(true);
  for (const name of ['zod', 'cel', 'yaml']) expect(import.meta.resolve(`#${name}`)).toMatch(new RegExp(`/dist/vendor/${name}\\.mjs$`));
  const zod = runModule(`
    const pkg = await import(${JSON.stringify(import.meta.resolve('zod'))});
    const vendored = await import(${JSON.stringify(import.meta.resolve('#zod'))});
    const s = vendored.z.object({ n: vendored.z.number().int() });
    console.log(JSON.stringify({ pkg: Object.keys(pkg).sort(), vendored: Object.keys(vendored).sort(), ok: s.safeParse({ n: 1 }).success,
      issue: s.safeParse({ n: 1.5 }).error.issues[0].code, same: vendored.default === vendored.z }));`) as Record<string, unknown>;
  expect(zod.vendored).toEqual(zod.pkg);
  expect(zod).toMatchObject({ ok: true, issue: 'invalid_type', same: true });
  // a CRD validation rule of the kind the twin's API server evaluates, by the bundle and by the packages
  const evalRule = (imports: string) =>
    runModule(`${imports}
      const env = celEnv({ funcs: strings });
      const run = (expr, self) => { const r = plan(env, parse(expr))({ self }); return isCelError(r) ? 'error' : r; };
      console.log(JSON.stringify({ names: typeof names === 'undefined' ? [] : names,
        r: [run('self.size() <= 3', 'abcd'), run('self.lowerAscii() == "x"', 'X'), run('self.startsWith("a")', 'ab')] }));`) as {
      names: string[];
      r: unknown[];
    };
  const vendored = evalRule(
    `const m = await import(${JSON.stringify(import.meta.resolve('#cel'))}); const { celEnv, isCelError, parse, plan, strings } = m; const names = Object.keys(m).sort();`,
  );
  const packages = evalRule(
    `const { celEnv, isCelError, parse, plan } = await import(${JSON.stringify(import.meta.resolve('@bufbuild/cel'))}); const { strings } = await import(${JSON.stringify(import.meta.resolve('@bufbuild/cel/ext'))});`,
  );
  expect(vendored.names).toEqual(declaredNames('vendor/cel.d.ts'));
  // a command bundle records the vendored packages it imports, and is fresh only while they are (freshBundle)
  const { build } = await import('../../common/build.mjs');
  await build();
  const vendorsOf = (bundle: string) =>
    (JSON.parse(readFileSync(join(REPO, 'dist', 'bundles', `${bundle}.json`), 'utf8')) as { vendors: string[] }).vendors;
  expect(vendorsOf('epp-decisions')).toEqual(['client-node']); // --kubeconfig's cluster driver
  expect(vendorsOf('k6-cli')).toEqual([]);
  expect(vendored.r).toEqual(packages.r);
  expect(vendored.r).toEqual([false, true, true]);
  // yaml (CommonJS, its names listed in vendor/yaml.d.ts): the same documents, positions and errors
  const yamlRun = (imports: string) =>
    runModule(`${imports}
      const text = 'a: 1\\nb: [x, {c: d}]\\n---\\nk: &r v\\nl: *r\\n';
      const docs = parseAllDocuments(text, { lineCounter: new LineCounter() });
      const seen = []; visit(docs[0], { Scalar(_k, n) { seen.push(String(n.value)); } });
      let err; try { parse('a: [1'); } catch (e) { err = e.code; }
      console.log(JSON.stringify({ names: typeof names === 'undefined' ? [] : names, js: docs.map((d) => d.toJS()), seen,
        text: stringify({ z: [1, 'two'] }), doc: parseDocument('x: 1').get('x'), err, alias: isAlias(docs[1].get('l', true)) }));`) as {
      names: string[];
    } & Record<string, unknown>;
  const yamlVendored = yamlRun(
    `const m = await import(${JSON.stringify(import.meta.resolve('#yaml'))}); const { parseAllDocuments, LineCounter, visit, parse, stringify, parseDocument, isAlias } = m; const names = Object.keys(m).sort();`,
  );
  const yamlPackage = yamlRun(
    `const { parseAllDocuments, LineCounter, visit, parse, stringify, parseDocument, isAlias } = await import('yaml');`,
  );
  expect(yamlVendored.names).toEqual(declaredNames('vendor/yaml.d.ts'));
  expect({ ...yamlVendored, names: [] }).toEqual({ ...yamlPackage, names: [] });
  expect(yamlVendored).toMatchObject({
    js: [
      { a: 1, b: ['x', { c: 'd' }] },
      { k: 'v', l: 'v' },
    ],
    err: 'BAD_INDENT',
    alias: true,
  });
});

test('#charts is one file holding vega and vega-lite: the names its types declare, and the same SVG as the packages', async () => {
  const { buildVendor, vendorFresh } = await import('../../common/build.mjs');
  await buildVendor();
  expect(vendorFresh()).toBe(true);
  const url = import.meta.resolve('#charts');
  expect(url).toMatch(/\/dist\/vendor\/charts\.mjs$/);
  // the names vendor/charts.d.ts re-exports (what TypeScript lets code use) are the bundle's names
  const declared = declaredNames('vendor/charts.d.ts');
  // one spec rendered by the bundle and by the packages themselves, in one fresh process each way
  const spec = {
    data: {
      values: [
        { a: 'x', n: 3 },
        { a: 'y', n: 5 },
      ],
    },
    mark: 'bar',
    encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'n', type: 'quantitative' } },
  };
  const render = (importsCode: string) =>
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `${importsCode}
        const view = new View(parse(compile(${JSON.stringify(spec)}).spec), { renderer: 'none' });
        const svg = await view.toSVG(); view.finalize();
        console.log(JSON.stringify({ names: typeof names === 'undefined' ? [] : names, svg }));`,
      ],
      { encoding: 'utf8', cwd: REPO },
    );
  const vendored = JSON.parse(
    render(`const m = await import(${JSON.stringify(url)}); const { View, parse, compile } = m; const names = Object.keys(m).sort();`),
  ) as { names: string[]; svg: string };
  const packages = JSON.parse(
    render(
      `const { View, parse } = await import(${JSON.stringify(import.meta.resolve('vega'))}); const { compile } = await import(${JSON.stringify(import.meta.resolve('vega-lite'))});`,
    ),
  ) as { svg: string };
  expect(vendored.names).toEqual(declared);
  expect(declared).toEqual(['View', 'compile', 'parse']);
  expect(vendored.svg).toContain('<svg');
  expect(vendored.svg).toBe(packages.svg);
});

test('a vendored bundle is stale once the package or the install changes, and is built again', async () => {
  const { buildVendor, vendorFresh } = await import('../../common/build.mjs');
  // a root of its own with a stand-in package: the checkout's dist/vendor is never touched here
  const root = mkdtempSync(join(tmpdir(), 'vendor-'));
  roots.push(root);
  const pkgDir = join(root, 'node_modules', '@kubernetes', 'client-node');
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(join(root, 'package.json'), '{"name":"r","type":"module"}');
  writeFileSync(join(root, 'node_modules', '.package-lock.json'), '{}');
  writeFileSync(join(pkgDir, 'package.json'), '{"name":"@kubernetes/client-node","version":"1.0.0","type":"module","main":"index.js"}');
  writeFileSync(join(pkgDir, 'index.js'), 'export const version = 1;');
  mkdirSync(join(root, 'vendor'));
  writeFileSync(join(root, 'vendor', 'client-node.d.ts'), "export * from '@kubernetes/client-node';\n");
  const names = ['client-node'];
  expect(vendorFresh(root, names)).toBe(false);
  await buildVendor(root, names);
  expect(vendorFresh(root, names)).toBe(true);
  expect(readFileSync(join(root, 'dist', 'vendor', 'client-node.mjs'), 'utf8')).toContain('version');
  utimesSync(join(root, 'node_modules', '.package-lock.json'), new Date(), new Date(Date.now() + 5000));
  expect(vendorFresh(root, names), 'after a new install').toBe(false);
  await buildVendor(root, names);
  expect(vendorFresh(root, names)).toBe(true);
  writeFileSync(join(pkgDir, 'package.json'), '{"name":"@kubernetes/client-node","version":"1.0.10","type":"module","main":"index.js"}');
  expect(vendorFresh(root, names), 'after the package changed').toBe(false);
  await buildVendor(root, names);
  expect(vendorFresh(root, names)).toBe(true);
  // the entry (vendor/<name>.d.ts) is part of what the bundle was built from
  writeFileSync(join(root, 'vendor', 'client-node.d.ts'), "export { version } from '@kubernetes/client-node';\n");
  expect(vendorFresh(root, names), 'after the entry changed').toBe(false);
});

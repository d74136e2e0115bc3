// The compiled-JavaScript build: every TypeScript module of the CLI and the twin, transpiled one to one
// by esbuild into dist/<fingerprint>/ (same tree as the sources, `.ts` imports rewritten to `.js`).
//
// Plain JavaScript so that bin/pd-harness.js can check and run the build without a TypeScript loader.
// The output directory is named by a fingerprint of the sources (path, size, mtime), so:
//   - a build is fresh exactly when dist/<fingerprint of the sources now>/ is complete;
//   - stale code is never run: an edited source changes the fingerprint, and callers fall back to
//     the sources (the twin's pod programs) or rebuild (the bin) — never the old output;
//   - two processes building at once cannot interleave: each writes a temporary directory and
//     renames it into place (the first rename wins, the other is discarded).
//
// Besides, a few commands whose start-up matters get a single-file bundle (BUNDLES) in dist/bundles/: the
// bin runs it when every source file that went into it is unchanged (freshBundle), else the full build.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

// node:crypto only when hashing: the bin and the bundles import this module and need no hash to start.
const sha1 = () => createRequire(import.meta.url)('node:crypto').createHash('sha1');

/** Source folders compiled into dist/ (what the bin and the twin's pod programs run). */
export const SOURCE_DIRS = [
  'analysis',
  'chaos',
  'cli',
  'cluster',
  'common',
  'core',
  'criteria',
  'k6',
  'k8s-rules',
  'load',
  'reporters',
  'runner',
  'suites',
  'twin',
];
const COMPLETE = '.complete';

/**
 * Single-file bundles, by name: `entry` (a program) and the worker-thread entries it starts
 * (`new URL('./<name>.js', import.meta.url)` finds them next to it), each bundled into one file under
 * dist/bundles/<name>/<hash of its inputs>/ with every app module and the `inline` packages (other packages
 * stay imports, resolved from the root's node_modules). Two kinds:
 *  - a bin command (the name is the command): a program with only that command, which bin/pd-harness.js runs
 *    instead of the full CLI. Loading one file instead of ~40 modules (and every command's module) is most
 *    of `epp-decisions`' start-up (docs/benchmarks.md);
 *  - `program: true`: a program started by its path, not through the bin: `k6-cli`, the k6 command line on the
 *    built-in k6 runtime that the twin's grafana/k6 pods (k6-operator's initializer and runners) and the
 *    tests' stand-in k6 start, ~65 times in `npm test`: ~0.2 s less CPU per start than its 24 compiled
 *    modules plus undici, ws and hdr-histogram-js as separate files (docs/benchmarks.md).
 */
export const BUNDLES = {
  'epp-decisions': {
    entry: 'cli/entries/epp-decisions.ts',
    workers: ['analysis/range-worker.ts'],
    inline: ['commander'],
    esm: ['cluster/driver.ts'], // --kubeconfig: @kubernetes/client-node is ESM only
    lazyBuiltins: ['node:child_process'], // commander requires it for executable subcommands (5-10 ms to load)
  },
  'k6-cli': {
    program: true,
    entry: 'load/k6/k6-cli.ts',
    workers: [], // its VU threads run a script bundle it writes (load/k6-runtime/bundle.ts), not a file of its own
    inline: ['undici', 'ws', 'hdr-histogram-js'], // esbuild stays a package: it finds its native binary itself
    esm: [],
  },
};

/** The bundle bin/pd-harness.js runs for a command, when it has one (a `program` bundle is not a command). */
export function commandBundle(command) {
  return command !== undefined && Object.hasOwn(BUNDLES, command) && !BUNDLES[command].program ? freshBundle(command) : undefined;
}
const BUNDLES_DIR = 'bundles';

/**
 * k6 script templates: TypeScript that runs in k6's JavaScript runtime, not in Node. The build also transforms
 * each alone, as a k6 script (types stripped, k6 imports kept, ES2020 for k6's runtime), into `<name>.k6.js` next
 * to its module in dist/<fingerprint>/; load/k6-script/generate.ts reads that instead of compiling the template
 * at run time (it still does, with the same options, when the build is stale).
 */
export const K6_TEMPLATES = ['k6/suite-load.ts'];
export const K6_TEMPLATE_TRANSFORM = { loader: 'ts', format: 'esm', target: 'es2020' };
/** Where the build puts a k6 template's script, relative to dist/<fingerprint>/. */
export const k6TemplateScript = (rel) => rel.replace(/\.ts$/, '.k6.js');

/**
 * Vendored packages: packages of many modules, bundled with their dependencies into one minified file each,
 * dist/vendor/<name>.mjs, that package.json's `imports` maps `#<name>` to. `vendor/<name>.d.ts` is both the
 * bundle's entry (esbuild reads it as TypeScript: its re-exports, types dropped) and the types TypeScript reads for
 * `#<name>`, so the names code may import are the bundle's. Loading one file instead of hundreds matters most in
 * a Playwright worker, where every module crosses Playwright's loader thread. ESLint refuses value imports of the
 * packages themselves, so a process holds one copy of each.
 *  - `client-node`: @kubernetes/client-node, ~830 modules: ~1 s of CPU in every process that talks to the API
 *    server (the bin's cluster commands, the twin host, a Playwright worker), ~0.25 s as one file.
 *  - `charts`: vega and vega-lite (reporters/charts.ts renders the report's SVG charts), ~700 modules: ~0.33 s
 *    in plain Node and ~1 s in a worker (the first suite's charts came ~1 s after its load), ~0.15 s as one file.
 *  - `zod` (~240 modules, in every process that reads a suite), `cel` (@bufbuild/cel with its protobuf runtime,
 *    the twin API server's CRD validation rules, ~450 modules, in every twin host) and `yaml` (~60 CommonJS
 *    modules, also in every EPP pod): 157 -> 73, 225 -> 90 and 69 -> 31 ms in plain Node, more in a worker.
 * Rebuilt when an installed package, the install or the entry changes (vendorStamp).
 */
export const VENDOR = {
  'client-node': ['@kubernetes/client-node'],
  charts: ['vega', 'vega-lite'],
  zod: ['zod'],
  cel: ['@bufbuild/cel', '@bufbuild/cel-spec', '@bufbuild/re2', '@bufbuild/protobuf'],
  yaml: ['yaml'],
};
const VENDOR_DIR = 'vendor';
const vendorEntry = (name) => path.join(VENDOR_DIR, `${name}.d.ts`);

/** What a vendored bundle was built from: its entry, its packages' versions and the install (npm's hidden lockfile). */
function vendorStamp(root, name) {
  return [
    vendorEntry(name),
    ...VENDOR[name].map((pkg) => path.join('node_modules', pkg, 'package.json')),
    path.join('node_modules', '.package-lock.json'),
  ]
    .map((f) => {
      const st = fs.statSync(path.join(root, f), { throwIfNoEntry: false });
      return st ? statLine(f, st) : `${f}\0missing\n`;
    })
    .join('');
}

const vendorStampFile = (root, name) => path.join(root, 'dist', VENDOR_DIR, `${name}.stamp`);

/** True when the vendored bundle `name` exists and was built from the packages installed now. */
function vendorBundleFresh(root, name) {
  try {
    return fs.readFileSync(vendorStampFile(root, name), 'utf8') === vendorStamp(root, name);
  } catch {
    return false;
  }
}

/** True when every vendored bundle (or those named) exists and was built from the packages installed now. */
export function vendorFresh(root = ROOT, names = Object.keys(VENDOR)) {
  return names.every((name) => vendorBundleFresh(root, name));
}

/** Builds the vendored bundles (or those named) that are missing or stale (temporary file, then rename: safe when two build at once). */
export async function buildVendor(root = ROOT, names = Object.keys(VENDOR)) {
  const dir = path.join(root, 'dist', VENDOR_DIR);
  fs.mkdirSync(dir, { recursive: true });
  for (const name of names) {
    if (vendorBundleFresh(root, name)) continue;
    const stampFile = vendorStampFile(root, name);
    const stamp = vendorStamp(root, name);
    const { build: esbuild } = await import('esbuild');
    const out = path.join(dir, `${name}.mjs`);
    const tmp = `${out}.tmp-${process.pid}`;
    await esbuild({
      stdin: {
        contents: fs.readFileSync(path.join(root, vendorEntry(name)), 'utf8'),
        resolveDir: root,
        sourcefile: vendorEntry(name),
        loader: 'ts',
      },
      outfile: tmp,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      minify: true,
      keepNames: true, // class and function names stay what the package's errors and checks say
      logLevel: 'silent',
      // CommonJS dependencies (node-fetch, ...) call require() for Node's modules
      banner: { js: "import { createRequire as __vendorRequire } from 'node:module'; const require = __vendorRequire(import.meta.url);" },
    });
    fs.renameSync(tmp, out);
    fs.writeFileSync(`${stampFile}.tmp-${process.pid}`, stamp);
    fs.renameSync(`${stampFile}.tmp-${process.pid}`, stampFile);
  }
}

/** The package root (the folder holding package.json) above a module URL, in sources and in dist alike. */
export function packageRoot(fromUrl = import.meta.url) {
  let dir = path.dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(fromUrl)}`);
    dir = up;
  }
}

const ROOT = packageRoot();

/** Every source file the build compiles, relative to the root, sorted. */
export function sourceFiles(root = ROOT) {
  const out = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.d.mts')) out.push(r);
    }
  };
  for (const d of SOURCE_DIRS) if (fs.existsSync(path.join(root, d))) walk(d);
  return out.sort();
}

/** Fingerprint of the sources and of this build script: any edit, addition or removal changes it. */
export function fingerprint(root = ROOT) {
  const h = sha1();
  for (const rel of sourceFiles(root)) {
    const st = fs.statSync(path.join(root, rel));
    h.update(statLine(rel, st));
  }
  return h.digest('hex').slice(0, 16);
}

const statLine = (rel, st) => `${rel}\0${st.size}\0${st.mtimeMs}\n`;

let memo;
/** The build directory for the sources as they are now, and whether it is complete. Memoized per process. */
export function currentBuild(root = ROOT) {
  if (memo && memo.root === root) return memo;
  const dir = path.join(root, 'dist', fingerprint(root));
  memo = { root, dir, fresh: fs.existsSync(path.join(dir, COMPLETE)) && vendorFresh(root) };
  return memo;
}

/**
 * The program to run for a source module (path relative to the root, e.g. `twin/sims/vllm/main.ts`):
 * its compiled file when the build is fresh, else the source itself (run through tsx by the caller).
 */
export function runnableModule(rel, root = ROOT) {
  const b = currentBuild(root);
  return b.fresh && /\.m?ts$/.test(rel) ? path.join(b.dir, rel.replace(/\.(m?)ts$/, '.$1js')) : path.join(root, rel);
}

/**
 * The bundle of a command (its entry file's absolute path) when it is fresh, else undefined (no bundle, or
 * something changed: the caller runs the full build, never the old bundle). The manifest
 * dist/bundles/<command>.json lists every file that went into the bundle (sources, inlined packages, this
 * script) with its size and mtime as they were when it was built; fresh means each is still so. node:fs
 * only: this is on the start-up path of the bundled commands (bin/pd-harness.js).
 */
export function freshBundle(command, root = ROOT) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(root, 'dist', BUNDLES_DIR, `${command}.json`), 'utf8'));
  } catch {
    return undefined;
  }
  for (const [rel, size, mtimeMs] of manifest.inputs) {
    const st = fs.statSync(path.join(root, rel), { throwIfNoEntry: false });
    if (!st || st.size !== size || st.mtimeMs !== mtimeMs) return undefined;
  }
  // a vendored package the bundle imports (epp-decisions: #client-node, on its --kubeconfig path) that is missing
  // or stale makes the bundle stale; only those are checked, on the command's start path
  if (!vendorFresh(root, manifest.vendors ?? Object.keys(VENDOR))) return undefined;
  const dir = path.join(root, 'dist', BUNDLES_DIR, command, manifest.dir);
  return fs.existsSync(path.join(dir, COMPLETE)) ? path.join(dir, manifest.main) : undefined;
}

/**
 * The file to start for a `program` bundle (BUNDLES): the bundle when it is fresh, else its entry as
 * runnableModule gives it (compiled when the build is fresh, else the source, run through tsx by the caller).
 */
export function runnableProgram(name, root = ROOT) {
  return freshBundle(name, root) ?? runnableModule(BUNDLES[name].entry, root);
}

/** Builds the bundles that are missing or stale (BUNDLES whose entry exists under `root`). */
async function buildBundles(root, esbuild) {
  for (const [command, spec] of Object.entries(BUNDLES)) {
    if (!fs.existsSync(path.join(root, spec.entry)) || freshBundle(command, root)) continue;
    // Inputs are stat'ed before the build (an edit while esbuild reads must not be recorded as built) and
    // checked again after it; on a change, build again.
    for (let attempt = 1; ; attempt++) {
      const before = new Map(sourceFiles(root).map((rel) => [rel, fs.statSync(path.join(root, rel))]));
      const built = await buildBundle(root, esbuild, command, spec);
      const inputs = [...built.inputs].sort().map((rel) => [rel, before.get(rel) ?? fs.statSync(path.join(root, rel))]);
      const changed = inputs.some(([rel, st]) => statLine(rel, st) !== statLine(rel, fs.statSync(path.join(root, rel))));
      if (changed && attempt < 3) {
        fs.rmSync(built.tmp, { recursive: true, force: true });
        continue;
      }
      if (changed) {
        fs.rmSync(built.tmp, { recursive: true, force: true });
        break; // sources keep changing: no bundle; the bin runs the full build
      }
      const h = sha1();
      for (const [rel, st] of inputs) h.update(statLine(rel, st));
      const fp = h.digest('hex').slice(0, 16);
      const dir = path.join(root, 'dist', BUNDLES_DIR, command, fp);
      if (fs.existsSync(path.join(dir, COMPLETE))) fs.rmSync(built.tmp, { recursive: true, force: true });
      else renameOrDiscard(built.tmp, dir);
      const manifest = { dir: fp, main: built.main, vendors: built.vendors, inputs: inputs.map(([rel, st]) => [rel, st.size, st.mtimeMs]) };
      const file = path.join(root, 'dist', BUNDLES_DIR, `${command}.json`);
      fs.writeFileSync(`${file}.tmp-${process.pid}`, `${JSON.stringify(manifest)}\n`);
      fs.renameSync(`${file}.tmp-${process.pid}`, file);
      pruneOld(path.join(root, 'dist', BUNDLES_DIR, command), fp);
      break;
    }
  }
}

/** The package an import names (`@scope/name` or `name`), or undefined for a relative path. */
const packageOf = (spec) =>
  /^[./]/.test(spec)
    ? undefined
    : spec
        .split('/')
        .slice(0, spec.startsWith('@') ? 2 : 1)
        .join('/');

/**
 * One bundle into a temporary directory: the name of its entry file there and the files it was made of
 * (relative to root). CommonJS, because Node loads one CommonJS file with no module-loader round trips and
 * because a package it does not inline is then required only when a code path needs it (ESM would hoist
 * every import to start-up). `import.meta.url` is the bundle file's URL in every module it holds. The
 * `esm` modules (they import ESM-only packages, which CommonJS cannot require on Node 20) are bundled
 * apart, as ES modules next to it, and imported by the bundle when it reaches them; they hold their own
 * copies of the app modules they import (so their errors are other classes: catch them by message).
 */
async function buildBundle(root, esbuild, command, spec) {
  const tmp = path.join(root, 'dist', BUNDLES_DIR, command, `.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  const inline = new Set(spec.inline);
  const esmFiles = new Map(spec.esm.map((f) => [path.join(root, f), `./${path.basename(f).replace(/\.m?ts$/, '')}.mjs`]));
  const common = {
    absWorkingDir: root,
    outdir: tmp,
    entryNames: '[name]',
    bundle: true,
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'silent',
    metafile: true,
  };
  const lazy = new Set(spec.lazyBuiltins ?? []);
  const externals = (keepEsm) => ({
    name: 'pd-harness-bundle-externals',
    setup(b) {
      // require() of a lazy built-in: a stand-in that requires it on first use of one of its properties
      b.onResolve({ filter: /^node:/ }, (args) => {
        if (args.namespace === 'pd-harness-lazy') return { path: args.path, external: true }; // the stand-in's own require
        return lazy.has(args.path) && args.kind === 'require-call' ? { path: args.path, namespace: 'pd-harness-lazy' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'pd-harness-lazy' }, (args) => ({
        contents: lazyBuiltin(args.path),
        loader: 'js',
      }));
      // a package stays an import unless it is inlined
      b.onResolve({ filter: /^[^./]/ }, (args) => (inline.has(packageOf(args.path)) ? undefined : { path: args.path, external: true }));
      if (keepEsm)
        b.onResolve({ filter: /^\./ }, (args) => {
          const file = esmFiles.get(path.resolve(args.resolveDir, args.path));
          return file && args.kind === 'dynamic-import' ? { path: file, external: true } : undefined;
        });
    },
  });
  const urlVar = '__pdHarnessImportMetaUrl';
  const cjs = await esbuild({
    ...common,
    entryPoints: [spec.entry, ...spec.workers].map((f) => path.join(root, f)),
    format: 'cjs',
    outExtension: { '.js': '.cjs' },
    banner: { js: `var ${urlVar} = require('node:url').pathToFileURL(__filename).href;` },
    define: { 'import.meta.url': urlVar },
    plugins: [externals(true)],
  });
  const esm =
    esmFiles.size === 0
      ? { metafile: { inputs: {} } }
      : await esbuild({
          ...common,
          entryPoints: [...esmFiles.keys()],
          format: 'esm',
          outExtension: { '.js': '.mjs' },
          plugins: [externals(false)],
        });
  fs.writeFileSync(path.join(tmp, COMPLETE), `${new Date().toISOString()}\n`);
  const inputs = new Set(
    [...Object.keys(cjs.metafile.inputs), ...Object.keys(esm.metafile.inputs)]
      .filter((f) => !f.startsWith('pd-harness-lazy:')) // generated, not a file
      .map((f) => path.relative(root, path.resolve(root, f))),
  );
  inputs.add(path.relative(root, fileURLToPath(import.meta.url))); // this script decides what a bundle is
  // the vendored packages (#<name>) the bundle imports: it is fresh only while they are
  const vendors = [
    ...new Set(
      [...Object.values(cjs.metafile.outputs ?? {}), ...Object.values(esm.metafile.outputs ?? {})]
        .flatMap((o) => o.imports ?? [])
        .map((i) => i.path.slice(1))
        .filter((name) => Object.hasOwn(VENDOR, name)),
    ),
  ].sort();
  return { tmp, main: `${path.basename(spec.entry).replace(/\.m?ts$/, '')}.cjs`, inputs, vendors };
}

/**
 * CommonJS stand-in for a built-in module that is required at load time but used only on paths the
 * command does not take (commander's executable subcommands and node:child_process): every property read
 * loads the real module, so it behaves as the module itself once used.
 */
function lazyBuiltin(name) {
  return `let real;
const load = () => (real ??= require(${JSON.stringify(name)}));
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const d = Object.getOwnPropertyDescriptor(load(), key);
    return d && { ...d, configurable: true };
  },
});
`;
}

function renameOrDiscard(tmp, dir) {
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another process renamed its build first
  }
}

/** esbuild plugin: keep every import external; relative `.ts` imports become `.js`, other files point back to the sources. */
function externals(root, outDir) {
  return {
    name: 'pd-harness-externals',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (!args.path.startsWith('.')) return { path: args.path, external: true };
        const target = path.resolve(args.resolveDir, args.path);
        if (/\.m?ts$/.test(target)) return { path: args.path.replace(/\.(m?)ts$/, '.$1js'), external: true };
        // .mjs/.json/... are not compiled: import them from the source tree.
        const fromOut = path.join(outDir, path.relative(root, args.resolveDir));
        let rel = path.relative(fromOut, target);
        if (!rel.startsWith('.')) rel = `./${rel}`;
        return { path: rel, external: true };
      });
    },
  };
}

/**
 * Builds dist/<fingerprint>/ unless it is already there; removes older builds. Returns the build.
 * Source `.mjs` files are not copied: compiled modules import them from the source tree.
 */
export async function build(root = ROOT) {
  memo = undefined;
  const fp = fingerprint(root);
  const dir = path.join(root, 'dist', fp);
  if (!fs.existsSync(path.join(dir, COMPLETE))) {
    const { build: esbuild } = await import('esbuild');
    const tmp = `${dir}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    const entryPoints = sourceFiles(root)
      .filter((f) => /\.m?ts$/.test(f))
      .map((f) => path.join(root, f));
    await esbuild({
      entryPoints,
      outdir: tmp,
      outbase: root,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'silent',
      outExtension: { '.js': '.js' },
      plugins: [externals(root, tmp)],
    });
    // .mts entries come out as .js; name them .mjs as their imports say.
    for (const f of entryPoints.filter((e) => e.endsWith('.mts'))) {
      const out = path.join(tmp, path.relative(root, f)).replace(/\.mts$/, '.js');
      if (fs.existsSync(out)) fs.renameSync(out, out.replace(/\.js$/, '.mjs'));
    }
    const { transform } = await import('esbuild');
    for (const rel of K6_TEMPLATES.filter((t) => fs.existsSync(path.join(root, t)))) {
      const source = fs.readFileSync(path.join(root, rel), 'utf8');
      const script = await transform(source, { ...K6_TEMPLATE_TRANSFORM, sourcefile: path.basename(rel) });
      fs.writeFileSync(path.join(tmp, k6TemplateScript(rel)), script.code);
    }
    fs.writeFileSync(path.join(tmp, COMPLETE), `${new Date().toISOString()}\n`);
    renameOrDiscard(tmp, dir);
  }
  await buildVendor(root);
  await buildBundles(root, (await import('esbuild')).build);
  pruneOld(path.join(root, 'dist'), fp, [BUNDLES_DIR, VENDOR_DIR]);
  memo = undefined;
  return currentBuild(root);
}

/**
 * Keeps the newest builds in `distDir` (a twin started from an older one may still be running its pods from
 * it, a command its workers) and removes the rest, and temporary directories whose builder is gone.
 */
function pruneOld(distDir, keep, others = [], kept = 3) {
  const builds = [];
  for (const name of fs.readdirSync(distDir)) {
    if (others.includes(name)) continue;
    const p = path.join(distDir, name);
    const tmpOwner = /\.tmp-(\d+)$/.exec(name);
    if (tmpOwner) {
      if (!isAlive(Number(tmpOwner[1]))) fs.rmSync(p, { recursive: true, force: true });
    } else if (name !== keep) {
      const st = fs.statSync(p);
      if (st.isDirectory() && !heldByLiveProcess(p)) builds.push({ p, t: st.mtimeMs });
    }
  }
  for (const { p } of builds.sort((a, b) => b.t - a.t).slice(kept - 1)) fs.rmSync(p, { recursive: true, force: true });
}

const LEASE = '.lease-';

/**
 * Marks the builds that hold `files` (compiled modules or bundles under dist/) as in use by this process: pruning
 * keeps a build while a process holding it runs. A twin host starts its pod programs from the build it resolved
 * them in for as long as it lives, and a detached twin outlives any number of rebuilds; without the hold, a pod it
 * restarts after the third rebuild would find no program. Files outside dist/ are ignored.
 */
export function holdBuilds(files, root = ROOT) {
  const dist = path.join(root, 'dist');
  for (const file of files) {
    const parts = path.relative(dist, file).split(path.sep);
    if (parts[0] === '..' || path.isAbsolute(parts[0]) || parts.length < 2) continue;
    const dir = parts[0] === BUNDLES_DIR ? path.join(dist, ...parts.slice(0, 3)) : path.join(dist, parts[0]);
    try {
      fs.writeFileSync(path.join(dir, `${LEASE}${process.pid}`), '');
    } catch {
      // the build is gone already: nothing to hold
    }
  }
}

/** True when a process holding the build `dir` (holdBuilds) still runs; the holds of gone processes are removed. */
function heldByLiveProcess(dir) {
  let held = false;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(LEASE)) continue;
    if (isAlive(Number(name.slice(LEASE.length)))) held = true;
    else fs.rmSync(path.join(dir, name), { force: true });
  }
  return held;
}

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// `node common/build.mjs` (npm's prepare and `npm run build`).
// (Not when this module is inlined into a bundle run as a script: import.meta.url is the bundle's then.)
// No top-level await: the bundles are CommonJS.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) && import.meta.url.endsWith('/build.mjs')) {
  void build().then((b) => {
    process.stdout.write(`pd-harness: compiled ${sourceFiles().length} modules into ${path.relative(process.cwd(), b.dir) || b.dir}\n`);
  });
}

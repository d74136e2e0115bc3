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
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

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
  const h = createHash('sha1');
  for (const rel of sourceFiles(root)) {
    const st = fs.statSync(path.join(root, rel));
    h.update(`${rel}\0${st.size}\0${st.mtimeMs}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

let memo;
/** The build directory for the sources as they are now, and whether it is complete. Memoized per process. */
export function currentBuild(root = ROOT) {
  if (memo && memo.root === root) return memo;
  const dir = path.join(root, 'dist', fingerprint(root));
  memo = { root, dir, fresh: fs.existsSync(path.join(dir, COMPLETE)) };
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
    fs.writeFileSync(path.join(tmp, COMPLETE), `${new Date().toISOString()}\n`);
    try {
      fs.renameSync(tmp, dir);
    } catch {
      fs.rmSync(tmp, { recursive: true, force: true }); // another process renamed its build first
    }
  }
  pruneOldBuilds(root, fp);
  memo = undefined;
  return currentBuild(root);
}

/**
 * Keeps the newest builds (a twin started from an older one may still be running its pods from it) and
 * removes the rest, and temporary directories whose builder is gone.
 */
function pruneOldBuilds(root, keep, kept = 3) {
  const distDir = path.join(root, 'dist');
  const builds = [];
  for (const name of fs.readdirSync(distDir)) {
    const p = path.join(distDir, name);
    const tmpOwner = /\.tmp-(\d+)$/.exec(name);
    if (tmpOwner) {
      if (!isAlive(Number(tmpOwner[1]))) fs.rmSync(p, { recursive: true, force: true });
    } else if (name !== keep) {
      builds.push({ p, t: fs.statSync(p).mtimeMs });
    }
  }
  for (const { p } of builds.sort((a, b) => b.t - a.t).slice(kept - 1)) fs.rmSync(p, { recursive: true, force: true });
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
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const b = await build();
  process.stdout.write(`pd-harness: compiled ${sourceFiles().length} modules into ${path.relative(process.cwd(), b.dir) || b.dir}\n`);
}

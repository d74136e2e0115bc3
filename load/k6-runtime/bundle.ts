import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { packageRoot } from '../../common/build.mjs';
import { refusedImport, scanSource } from './scan.ts';

// The shims and the VU are bundled from the sources by esbuild, also when this module runs from dist/.
const HERE = path.join(packageRoot(import.meta.url), 'load', 'k6-runtime');
const require = createRequire(import.meta.url);
const SHIMS: Record<string, string> = {
  k6: 'k6.ts',
  'k6/http': 'http.ts',
  'k6/metrics': 'metrics.ts',
  'k6/execution': 'execution.ts',
  'k6/data': 'data.ts',
  'k6/encoding': 'encoding.ts',
  'k6/crypto': 'crypto.ts',
  'k6/html': 'html.ts',
  'k6/timers': 'timers.ts',
  'k6/ws': 'ws.ts',
};
/** jslib modules the runtime carries its own implementation of (no download), by URL pattern. */
const VENDORED: [RegExp, string][] = [
  [/^https:\/\/jslib\.k6\.io\/k6-summary\/0\.\d+\.\d+\/index\.js$/, 'k6-summary.ts'],
  [/^https:\/\/jslib\.k6\.io\/k6-utils\/1\.([2-9]|\d\d+)\.\d+\/index\.js$/, 'k6-utils.ts'],
  // k6chaijs: versions differ in check tags and exitOnError (shims/k6chaijs-core.ts); 4.3.4.0/.1 are not carried
  [/^https:\/\/jslib\.k6\.io\/k6chaijs\/4\.3\.4\.2\/index\.js$/, 'k6chaijs-4.3.4.2.ts'],
  [/^https:\/\/jslib\.k6\.io\/k6chaijs\/(4\.3\.4\.3|4\.5\.0\.0)\/index\.js$/, 'k6chaijs-4.3.4.3.ts'],
  [
    /^https:\/\/jslib\.k6\.io\/k6chaijs\/4\.(5\.0\.([1-9]|\d\d+)|5\.([1-9]|\d\d+)\.\d+\.\d+|([6-9]|\d\d+)\.\d+\.\d+\.\d+)\/index\.js$/,
    'k6chaijs.ts',
  ],
  // the HTTP instrumentation jslibs (shims/http-instrumentation.ts): tempo 1.0.0 wraps k6/http as loaded, 1.0.1+ as at instrumentHTTP()
  [/^https:\/\/jslib\.k6\.io\/http-instrumentation-pyroscope\/1\.0\.([1-9]|\d\d+)\/index\.js$/, 'http-instrumentation-pyroscope.ts'],
  [/^https:\/\/jslib\.k6\.io\/http-instrumentation-tempo\/1\.0\.0\/index\.js$/, 'http-instrumentation-tempo-1.0.0.ts'],
  [/^https:\/\/jslib\.k6\.io\/http-instrumentation-tempo\/1\.0\.([1-9]|\d\d+)\/index\.js$/, 'http-instrumentation-tempo.ts'],
  // papaparse: jslib.k6.io serves the library's own UMD build (default export), carried as the npm package
  [/^https:\/\/jslib\.k6\.io\/papaparse\/5\.\d+\.\d+\/index\.js$/, 'papaparse.ts'],
];
export const SUPPORTED_IMPORTS = [
  ...Object.keys(SHIMS),
  'k6/options (types)',
  'jslib k6-summary 0.x (textSummary)',
  'jslib k6-utils 1.2+ (random*, uuidv4, findBetween, normalDistributionStages)',
  'jslib k6chaijs 4.3.4.2+ (describe, expect, chai)',
  'jslib http-instrumentation-pyroscope 1.0.1+ and http-instrumentation-tempo 1.0.x (Client, instrumentHTTP)',
  'jslib papaparse 5.x (the default export: parse, unparse)',
];

/** esbuild's "No matching export" for a vendored jslib: the one line naming the function and the library. */
function vendoredExportRefusal(text: string | undefined): string | undefined {
  const m =
    /No matching export in "[^"]*shims\/(k6-summary|k6-utils|k6chaijs|http-instrumentation-pyroscope|http-instrumentation-tempo|papaparse)[\w.-]*\.ts" for import "([^"]+)"/.exec(
      text ?? '',
    );
  return m ? `unsupported by the built-in k6 runtime: ${m[2]} of the ${m[1]} jslib (k6 docs: jslib, ${m[1]})` : undefined;
}
/** Libraries the shims load lazily in the worker, by absolute path (the bundle lives in a temp dir). */
const RUNTIME_LIBS = new Set(['cheerio', 'tough-cookie', 'chai']);

export const RUNTIME_DIR = HERE;

/** A script the runtime refuses before running it: one line naming the feature (CLI exit 2). */
export class RefusedScript extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RefusedScript';
  }
}

function k6Modules(script: string, localFiles: Set<string>): Plugin {
  const rel = path.relative(process.cwd(), script) || script;
  return {
    name: 'k6-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const fromRuntime = args.importer.startsWith(HERE) || args.importer === '' || args.importer === '<stdin>';
        const shim = SHIMS[args.path] ?? VENDORED.find(([re]) => re.test(args.path))?.[1];
        if (shim && !fromRuntime) return { path: path.join(HERE, 'shims', shim) };
        if (fromRuntime) {
          if (args.path.startsWith('node:')) return { path: args.path, external: true };
          if (RUNTIME_LIBS.has(args.path)) return { path: require.resolve(args.path), external: true };
          return undefined;
        }
        if (args.path === 'k6/options') return { path: 'k6-options', namespace: 'k6-empty' };
        if (args.path.startsWith('.') || path.isAbsolute(args.path) || args.path.startsWith('file://')) {
          const abs = path.resolve(args.resolveDir, args.path.replace(/^file:\/\//, ''));
          localFiles.add(abs);
          return { path: abs };
        }
        throw new RefusedScript(`${rel}: ${refusedImport(args.path, SUPPORTED_IMPORTS)}`);
      });
      b.onLoad({ filter: /.*/, namespace: 'k6-empty' }, () => ({ contents: 'export {}', loader: 'js' }));
    },
  };
}

export interface Bundle {
  /** The bundled program (CommonJS) on disk, with an inline source map. */
  file: string;
  cleanup(): void;
}

/**
 * Bundle a k6 script (TS or JS) with the VU runtime into one CommonJS program for worker threads, after a
 * static scan of the script's own files for features the runtime refuses. The script's module is evaluated
 * lazily (`load()`), so init errors are reported by the VU with their script location.
 */
export async function bundleK6Script(script: string): Promise<Bundle> {
  const abs = path.resolve(script);
  const localFiles = new Set<string>([abs]);
  const entry = `import { serve } from ${JSON.stringify(path.join(HERE, 'vu.ts'))};\nserve(() => require(${JSON.stringify(abs)}));\n`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pd-harness-k6-'));
  const file = path.join(dir, 'bundle.cjs');
  try {
    const result = await build({
      stdin: { contents: entry, resolveDir: HERE, loader: 'ts', sourcefile: 'k6-entry.ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      outfile: file,
      sourcemap: 'inline',
      logLevel: 'silent',
      plugins: [k6Modules(abs, localFiles)],
    });
    const out = result.outputFiles.find((f) => f.path === file) ?? result.outputFiles[0];
    if (!out) throw new Error(`${script}: bundling produced no output`);
    for (const f of localFiles) {
      const refusal = scanSource(readFileSync(f, 'utf8'));
      if (refusal) throw new RefusedScript(`${path.relative(process.cwd(), f) || f}:${refusal.line}: ${refusal.message}`);
    }
    writeFileSync(file, out.text);
    return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    if (err instanceof RefusedScript) throw err;
    // esbuild reports plugin errors inside its own message; keep one line.
    const e = err as {
      errors?: { text?: string; detail?: unknown; location?: { file?: string; line?: number } | null }[];
      message?: string;
    };
    const first = e.errors?.[0];
    if (first?.detail instanceof RefusedScript) throw first.detail;
    const where = first?.location ? `${first.location.file}:${first.location.line}: ` : '';
    const text = vendoredExportRefusal(first?.text) ?? (first?.text ?? e.message ?? String(err)).split('\n')[0];
    throw new RefusedScript(`${where}${text}`, { cause: err });
  }
}

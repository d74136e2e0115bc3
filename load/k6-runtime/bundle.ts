import * as path from 'node:path';
import { packageRoot } from '../../common/build.mjs';
import { build, type Plugin } from 'esbuild';

// The shims and the VU are bundled from the sources by esbuild, also when this module runs from dist/.
const HERE = path.join(packageRoot(import.meta.url), 'load', 'k6-runtime');
const SHIMS: Record<string, string> = {
  k6: path.join(HERE, 'shims/k6.ts'),
  'k6/http': path.join(HERE, 'shims/http.ts'),
  'k6/metrics': path.join(HERE, 'shims/metrics.ts'),
  'k6/execution': path.join(HERE, 'shims/execution.ts'),
};
export const SUPPORTED_IMPORTS = ['k6', 'k6/http', 'k6/metrics', 'k6/execution (scenario.iterationInTest, scenario.name, vu.idInInstance)', 'k6/options (types)'];

/** Maps k6 modules to the shims; anything else a script imports from outside its own files is refused. */
function k6Modules(script: string): Plugin {
  return {
    name: 'k6-modules',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const fromRuntime = args.importer.startsWith(HERE) || args.importer === '' || args.importer === '<stdin>';
        const shim = SHIMS[args.path];
        if (shim) return { path: shim };
        if (args.path.startsWith('.') || path.isAbsolute(args.path)) return undefined;
        if (fromRuntime && (args.path.startsWith('node:') || args.path === 'esbuild')) return { path: args.path, external: true };
        throw new Error(
          `${path.relative(process.cwd(), script)}: unsupported import '${args.path}' (the built-in k6 runtime supports ${SUPPORTED_IMPORTS.join(', ')})`,
        );
      });
    },
  };
}

/**
 * Bundle a k6 script (TS or JS) with the VU runtime into one CommonJS program for a worker thread.
 * The script's module is evaluated lazily (`load()`), so init errors are reported by the VU, not the loader.
 */
export async function bundleK6Script(script: string): Promise<string> {
  const abs = path.resolve(script);
  const entry = `import { serve } from ${JSON.stringify(path.join(HERE, 'vu.ts'))};\nserve(() => require(${JSON.stringify(abs)}));\n`;
  try {
    const result = await build({
      stdin: { contents: entry, resolveDir: HERE, loader: 'ts', sourcefile: 'k6-entry.ts' },
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      plugins: [k6Modules(abs)],
    });
    const out = result.outputFiles[0];
    if (!out) throw new Error(`${script}: bundling produced no output`);
    return out.text;
  } catch (err) {
    // esbuild reports plugin errors inside its own message; keep one line.
    const e = err as { errors?: { text?: string }[]; message?: string };
    const first = e.errors?.[0]?.text ?? e.message ?? String(err);
    throw new Error(first.split('\n')[0]);
  }
}

// ESLint: the architecture's import boundaries (docs/architecture.md, "Layers") as a rule, plus a few
// checks that catch real mistakes. Formatting is Prettier's job (.prettierrc.json), not ESLint's.
import tseslint from 'typescript-eslint';
import boundaries from './scripts/eslint-boundaries.js';

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      '.pd-harness/**',
      'allure-results/**',
      'allure-report/**',
      'test-results/**',
      'reports/**',
      'k6/**',
      'test/fixtures/**',
    ],
  },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 2022, sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin, boundaries },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'boundaries/layers': 'error',
      'no-var': 'error',
      'prefer-const': 'error',
      'no-debugger': 'error',
      'no-dupe-keys': 'error',
      'no-self-compare': 'error',
      'no-unreachable': 'error',
      'no-unsafe-finally': 'error',
      'no-cond-assign': ['error', 'except-parens'],
      'no-fallthrough': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // one copy of client-node's classes per process (instanceof ApiException), and vega, zod, CEL and yaml loaded as
      // one file each, not hundreds of modules: the vendored bundles (common/build.mjs VENDOR, vendor/). Type imports
      // stay allowed.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@kubernetes/client-node', message: "import from '#client-node' (the vendored bundle, same types)" },
            { name: 'vega', message: "import from '#charts' (the vendored bundle of vega and vega-lite)", allowTypeImports: true },
            { name: 'vega-lite', message: "import from '#charts' (the vendored bundle of vega and vega-lite)", allowTypeImports: true },
            { name: 'zod', message: "import from '#zod' (the vendored bundle, same types)", allowTypeImports: true },
            { name: '@bufbuild/cel', message: "import from '#cel' (the vendored bundle of @bufbuild/cel)", allowTypeImports: true },
            { name: '@bufbuild/cel/ext', message: "import from '#cel' (the vendored bundle of @bufbuild/cel)", allowTypeImports: true },
            {
              name: 'undici',
              message: "import from common/undici.ts (undici's dispatchers without its index, ~100 ms less at every start)",
              allowTypeImports: true,
            },
            {
              name: 'yaml',
              message: "import from '#yaml' (the vendored bundle; add a name to vendor/yaml.d.ts if it lacks one)",
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);

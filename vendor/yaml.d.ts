// `#yaml`: yaml as one file (common/build.mjs VENDOR). This file is both the bundle's entry and its types: the
// names the harness and the twin use (the package is CommonJS, so its names are listed, not `export *`).
/* eslint-disable no-restricted-imports -- the one place that names the package the bundle holds */
export {
  Document,
  LineCounter,
  Scalar,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parse,
  parseAllDocuments,
  parseDocument,
  stringify,
  visit,
} from 'yaml';
export type { Node } from 'yaml';

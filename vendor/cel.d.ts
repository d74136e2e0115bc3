// `#cel`: @bufbuild/cel (with its protobuf runtime) as one file (common/build.mjs VENDOR). This file is both the
// bundle's entry and its types: the names twin/apiserver/crd-cel.ts evaluates CRD validation rules with.
/* eslint-disable no-restricted-imports -- the one place that names the package the bundle holds */
export { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
export { strings } from '@bufbuild/cel/ext';

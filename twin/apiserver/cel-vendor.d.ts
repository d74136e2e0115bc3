// The types of `#cel` (package.json imports): the vendored bundle of @bufbuild/cel that common/build.mjs
// VENDOR.cel builds from the same re-exports, so the names here are the bundle's (test/unit/build.test.ts).
/* eslint-disable no-restricted-imports -- the one place that names the package the bundle holds */
export { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
export { strings } from '@bufbuild/cel/ext';

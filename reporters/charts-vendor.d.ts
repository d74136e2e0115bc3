// The types of `#charts` (package.json imports): the vendored bundle of vega and vega-lite that common/build.mjs
// VENDOR.charts builds from the same re-exports, so the names here are the bundle's (test/unit/build.test.ts).
/* eslint-disable no-restricted-imports -- the one place that names the packages the bundle holds */
export { View, parse } from 'vega';
export { compile } from 'vega-lite';

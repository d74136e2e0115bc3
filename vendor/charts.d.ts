// `#charts`: vega and vega-lite as one file (common/build.mjs VENDOR). This file is both the bundle's entry and
// its types: only the names reporters/charts.ts renders with.
/* eslint-disable no-restricted-imports -- the one place that names the packages the bundle holds */
export { View, parse } from 'vega';
export { compile } from 'vega-lite';

// `#zod`: zod as one file (common/build.mjs VENDOR). This file is both the bundle's entry and its types: all of
// zod, so one copy of its classes exists in a process.
/* eslint-disable no-restricted-imports -- the one place that names the package the bundle holds */
export * from 'zod';
export { default } from 'zod';

// `#client-node`: @kubernetes/client-node as one file (common/build.mjs VENDOR). This file is both the bundle's
// entry and its types: all of the package, so one copy of its classes exists in a process (instanceof ApiException).
/* eslint-disable no-restricted-imports -- the one place that names the package the bundle holds */
export * from '@kubernetes/client-node';

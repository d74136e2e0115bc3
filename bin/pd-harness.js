#!/usr/bin/env -S node --max-semi-space-size=2
// Runs the TypeScript CLI through tsx so `npx pd-harness` works right after `npm ci`, no build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');

// `node --import ./register.mjs`: records every module the process resolves (one `pid url` line each) into
// $RECORD_IMPORTS_FILE, through a resolve hook that chains with the others (Playwright's TypeScript loader).
import { register } from 'node:module';

register(new URL('./hooks.mjs', import.meta.url), { data: { out: process.env.RECORD_IMPORTS_FILE } });

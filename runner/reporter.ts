import type { RunReporter } from '../core/run-reporter.ts';

export type { RunReporter } from '../core/run-reporter.ts';

export const consoleReporter: RunReporter = {
  async step(title, body) {
    process.stderr.write(`• ${title}\n`);
    return body();
  },
  async attach() {},
  log(line) {
    process.stderr.write(`  ${line}\n`);
  },
};

import type { Command } from 'commander';

function collectEnv(value: string, prev: Record<string, string>): Record<string, string> {
  const at = value.indexOf('=');
  if (at <= 0) throw new Error(`-e ${value}: expected KEY=VALUE`);
  return { ...prev, [value.slice(0, at)]: value.slice(at + 1) };
}

/**
 * `pd-harness k6 run SCRIPT`: any k6 script on the built-in k6 runtime, with k6's own flags where they apply.
 * Exit codes as k6's (errext/exitcodes): 99 thresholds crossed, 107 script exception in init/setup, 108
 * exec.test.abort(), 104 invalid options; 2 for a script the runtime refuses.
 */
export function register(program: Command): void {
  const k6 = program.command('k6').description('run k6 scripts without k6 (the built-in k6 runtime)');
  k6.command('run')
    .description("run a k6 script as `k6 run` does (HTTP to loopback only), printing k6's end-of-test summary")
    .argument('<script>', 'k6 script (.js or .ts)')
    .option('-e, --env <KEY=VALUE>', 'add an __ENV variable (repeatable)', collectEnv, {} as Record<string, string>)
    .option('-u, --vus <n>', 'number of VUs (overrides the script)')
    .option('-d, --duration <duration>', 'test duration, e.g. 30s (overrides the script)')
    .option('-i, --iterations <n>', 'total iterations, shared by the VUs (overrides the script)')
    .option('--summary-export <file>', "write the end-of-test summary in k6's summary-export JSON format")
    .option('--include-system-env-vars', 'pass the environment to __ENV (k6 run does by default)', true)
    .option('--no-include-system-env-vars', 'do not pass the environment to __ENV')
    .option('--no-summary', 'no end-of-test summary')
    .option('-q, --quiet', 'no progress output (as in k6; the built-in runtime shows none)')
    .action(
      async (
        script: string,
        o: {
          env: Record<string, string>;
          vus?: string;
          duration?: string;
          iterations?: string;
          summaryExport?: string;
          includeSystemEnvVars: boolean;
          summary: boolean;
        },
      ) => {
        const { k6RunCommand, parseOverrides, systemEnv } = await import('../../load/k6-runtime/command.ts');
        const overrides = parseOverrides(o);
        const { exitCode } = await k6RunCommand({
          script,
          env: { ...(o.includeSystemEnvVars ? systemEnv() : {}), ...o.env },
          overrides,
          noSummary: !o.summary,
          ...(o.summaryExport ? { summaryExport: o.summaryExport } : {}),
        });
        if (exitCode !== 0) process.exitCode = exitCode;
      },
    );
}

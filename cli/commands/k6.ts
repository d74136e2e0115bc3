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
    .option('-q, --quiet', 'no summary')
    .action(async (script: string, o: { env: Record<string, string>; vus?: string; duration?: string; iterations?: string; summaryExport?: string; includeSystemEnvVars: boolean; quiet?: boolean }) => {
      const { existsSync, writeFileSync } = await import('node:fs');
      const { UserError } = await import('../errors.ts');
      const { runK6ScriptReport } = await import('../../load/k6-runtime/run.ts');
      const { summaryExport, textSummary } = await import('../../load/k6-runtime/summary.ts');
      if (!existsSync(script)) throw new UserError(`k6 script ${script}: no such file`);
      const int = (v: string | undefined, flag: string): number | undefined => {
        if (v === undefined) return undefined;
        if (!/^\d+$/.test(v)) throw new UserError(`${flag} ${v}: expected a whole number`);
        return Number(v);
      };
      const overrides: { vus?: number; duration?: string; iterations?: number } = {};
      const vus = int(o.vus, '--vus');
      const iterations = int(o.iterations, '--iterations');
      if (vus !== undefined) overrides.vus = vus;
      if (iterations !== undefined) overrides.iterations = iterations;
      if (o.duration !== undefined) overrides.duration = o.duration;
      const sysEnv = o.includeSystemEnvVars ? Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)) : {};
      const report = await runK6ScriptReport({ script, env: { ...sysEnv, ...o.env }, overrides });
      if (report.handleSummary) {
        for (const [target, content] of Object.entries(report.handleSummary)) {
          if (target === 'stdout') process.stdout.write(content);
          else if (target === 'stderr') process.stderr.write(content);
          else writeFileSync(target, content);
        }
      } else if (!o.quiet) process.stdout.write(textSummary(report));
      if (o.summaryExport) writeFileSync(o.summaryExport, `${JSON.stringify(summaryExport(report), null, 2)}\n`);
      if (report.abort?.kind === 'thresholds' || report.thresholds.some((t) => !t.ok)) {
        process.stderr.write(`ERRO thresholds on metrics '${[...new Set(report.thresholds.filter((t) => !t.ok).map((t) => t.metric))].sort().join("', '")}' have been crossed\n`);
        process.exitCode = 99;
      } else if (report.abort?.kind === 'script') {
        process.stderr.write(`ERRO ${report.abort.message}\n`);
        process.exitCode = report.abort.message.startsWith('setup:') ? 107 : 108;
      }
    });
}

import { InvalidArgumentError, Option, type Command } from 'commander';

export interface RunOptions {
  target?: 'twin' | 'kubeconfig';
  kubeconfig?: string;
  gateway?: string;
  engine?: 'builtin' | 'k6' | 'k6-operator';
  dryRun?: boolean;
  allowProtected?: boolean;
  output?: string;
  /** Let Playwright clean --output even when pd-harness did not write it. */
  force?: boolean;
  /** Paths outside the suite's repository its deploy/apply/script paths may use. */
  allowOutside?: string[];
  /** `--timeout NAME=DURATION` (repeatable): the run's named waits (core/timeouts.ts), over the suite's spec.timeouts. */
  timeout?: string[];
}

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'run one suite through Playwright (project conformance, chaos or repro by its tags) and exit non-zero when a criterion fails; ' +
        '--dry-run prints the plan (setup, load, each fault and the pods it would act on now) and changes nothing. ' +
        'Exit codes: 0 pass, 1 a criterion failed, 2 invalid input or usage, 3 target unreachable or unauthorized, 4 refused by the guard',
    )
    .argument('<suite>', 'suite file (*.suite.yaml)')
    .option('--target <kind>', 'twin (start the local twin) or kubeconfig (a real cluster)', oneOf(['twin', 'kubeconfig']))
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (implies --target kubeconfig)')
    .option('--gateway <url>', 'gateway URL on a real cluster (PD_HARNESS_GATEWAY)')
    .addOption(
      new Option('--engine <name>', 'load engine, overriding the suite: builtin, k6 or k6-operator')
        .env('PD_HARNESS_ENGINE')
        .argParser(oneOf(['builtin', 'k6', 'k6-operator'])),
    )
    .option('--dry-run', "print the plan (every object the run would write, with the guard's verdict) and change nothing")
    .option(
      '--allow-protected',
      'allow writes to protected namespaces (kube-system, kube-public, kube-node-lease, default unless listed) that spec.target names',
    )
    .option('--output <dir>', "Playwright's output directory (default test-results)")
    .option('--force', '--output may be cleaned even when it holds files pd-harness did not write')
    .option(
      '--allow-outside <path>',
      "a path outside the suite's repository that deploy/apply/script paths may use (repeatable)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--timeout <name=duration>',
      "set one of the run's named waits, e.g. deploy=5m (repeatable; wins over the suite's spec.timeouts; names in README)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(async (suite: string, opts: RunOptions) => {
      const { runSuiteCommand } = await import('../run-suite-cli.ts');
      const { allowOutsideEnv } = await import('./validate.ts');
      allowOutsideEnv(opts.allowOutside ?? []);
      process.exitCode = await runSuiteCommand(suite, opts);
    });
}

function oneOf(values: string[]) {
  return (v: string): string => {
    if (!values.includes(v)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}`);
    return v;
  };
}

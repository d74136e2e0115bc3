import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('repro')
    .description(
      'run a reproduction campaign (suite spec.repro) through the Playwright "repro" project: one bundle per decode crash and a ' +
        'summary under --out; exits 0 when the campaign ran (crashes are results), non-zero when the run itself broke',
    )
    .argument('<suite>', 'suite file with a spec.repro matrix')
    .option('--cell <id>', 'run only this matrix cell, e.g. p2p-c4-p1500-t300ms')
    .option('--seed <n>', 'campaign seed (default: spec.repro.seed); with --cell it replays a bundle')
    .option('--out <dir>', 'where campaigns are written', 'reports/repro')
    .option('--list', 'print the matrix cells and exit')
    .option(
      '--timeout <name=duration>',
      "set one of the run's named waits, e.g. reproReady=5m (repeatable; wins over the suite's spec.timeouts)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .action(async (suite: string, opts: { cell?: string; seed?: string; out: string; list?: boolean; timeout?: string[] }) => {
      const { runReproCommand } = await import('../repro-cli.ts');
      process.exitCode = await runReproCommand(suite, opts);
    });
}

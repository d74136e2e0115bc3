import { InvalidArgumentError, type Command } from 'commander';

export function register(program: Command): void {
  const twin = program
    .command('twin')
    .description('the local twin: a Kubernetes API subset on loopback with pods as processes, simulators, EPP and gateway');

  twin
    .command('up')
    .description('start the twin (foreground unless --detach)')
    .option('--detach', 'run in the background and return once it is up')
    .option('--port <n>', 'API server port (default: any free port)', toPort)
    .option('--gateway-port <n>', 'gateway listener port', toPort, 18080)
    .option('--topology <name>', 'apply a topology once up: "seed" (the seed README\'s, profile proxy-performance) or "none"', 'none')
    .option('--ip-prefix <a.b>', 'first two octets of pod addresses (127.N), or random for a free one; one twin per prefix', '127.0')
    .option('--state-dir <dir>', 'where the twin keeps its state', '.pd-harness/twin')
    .action(async (opts: UpOptions) => {
      const { twinUp } = await import('../twin-control.ts');
      await twinUp(opts);
    });

  twin
    .command('status')
    .description('show whether the twin runs, its addresses and its pods')
    .option('--json', 'print JSON')
    .option('--state-dir <dir>', 'where the twin keeps its state', '.pd-harness/twin')
    .action(async (opts: { json?: boolean; stateDir: string }) => {
      const { twinStatus } = await import('../twin-control.ts');
      await twinStatus(opts);
    });

  twin
    .command('down')
    .description('stop the twin and every process it started (also after the twin was killed)')
    .option('--state-dir <dir>', 'where the twin keeps its state', '.pd-harness/twin')
    .action(async (opts: { stateDir: string }) => {
      const { twinDown } = await import('../twin-control.ts');
      await twinDown(opts);
    });

  twin
    .command('kubeconfig')
    .description("print the path of the twin's kubeconfig (export KUBECONFIG=$(npx pd-harness twin kubeconfig))")
    .option('--state-dir <dir>', 'where the twin keeps its state', '.pd-harness/twin')
    .action(async (opts: { stateDir: string }) => {
      const { twinKubeconfig } = await import('../twin-control.ts');
      twinKubeconfig(opts);
    });
}

export interface UpOptions {
  detach?: boolean;
  port?: number;
  gatewayPort: number;
  topology: string;
  ipPrefix: string;
  stateDir: string;
}

function toPort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`not a port: ${v}`);
  return n;
}

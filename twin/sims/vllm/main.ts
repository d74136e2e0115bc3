/**
 * The program the twin runs for `vllm/vllm-openai:*` images: `main.ts serve MODEL --port=8000 ...`.
 * Exits 1 when the engine dies (so the pod restarts), 0 on SIGTERM/SIGINT within a second, 2 on bad args.
 */
import { startVllmSim } from './sim.ts';
import { readSettings } from './settings.ts';

const EXIT_DEADLINE_MS = 900;

async function main(): Promise<void> {
  const deathDelay = readSettings(process.env).deathExitDelayMs;
  const sim = await startVllmSim({
    args: process.argv.slice(2),
    onFatal: () => {
      // Give in-flight error responses a moment to leave, then die like the real API server does.
      setTimeout(() => {
        void sim.stop().finally(() => process.exit(1));
        setTimeout(() => process.exit(1), EXIT_DEADLINE_MS).unref();
      }, deathDelay).unref();
    },
  });
  const onSignal = (): void => {
    setTimeout(() => process.exit(0), EXIT_DEADLINE_MS).unref();
    void sim.stop().finally(() => process.exit(sim.state() === 'dead' ? 1 : 0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

main().catch((e: unknown) => {
  process.stderr.write(`(APIServer pid=1) ERROR ${(e as Error).name}: ${(e as Error).message}\n`);
  process.exit(2);
});

/**
 * The program the twin runs for `vllm/vllm-openai:*` images: `main.ts serve MODEL --port=8000 ...`.
 * Exits 1 when the engine dies (so the pod restarts), 0 on SIGTERM/SIGINT within a second, 2 on bad args/env.
 */
import { startVllmSim, type VllmSim } from './sim.ts';
import { readSettings } from './settings.ts';

const EXIT_DEADLINE_MS = 900;

let sim: VllmSim | undefined;

function onSignal(): void {
  setTimeout(() => process.exit(0), EXIT_DEADLINE_MS).unref();
  if (!sim) process.exit(0);
  void sim.stop().finally(() => process.exit(sim?.state() === 'dead' ? 1 : 0));
}
process.once('SIGTERM', onSignal);
process.once('SIGINT', onSignal);

async function main(): Promise<void> {
  const deathDelay = readSettings(process.env).deathExitDelayMs;
  sim = await startVllmSim({
    args: process.argv.slice(2),
    onFatal: () => {
      // Give in-flight error responses a moment to leave, then die as the real API server does.
      setTimeout(() => {
        setTimeout(() => process.exit(1), EXIT_DEADLINE_MS).unref();
        void (sim?.stop() ?? Promise.resolve()).finally(() => process.exit(1));
      }, deathDelay);
    },
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`(APIServer pid=1) ERROR ${(e as Error).name}: ${(e as Error).message}\n`);
  process.exit(2);
});

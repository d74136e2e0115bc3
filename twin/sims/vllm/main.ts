/**
 * The program the twin runs for `vllm/vllm-openai:*` images: `main.ts serve MODEL --port=8000 ...`.
 * Exits 1 when the engine dies (so the pod restarts), 0 on SIGTERM/SIGINT within a second, 2 on bad args/env.
 */
import { EngineInitError } from './args.ts';
import { createLogger } from './log.ts';
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
  if (e instanceof EngineInitError) {
    // vLLM: the EngineCore raises while building the KV connector (factory.py get_connector_class), logs it, and
    // the API server gives up with `Engine core initialization failed` (vllm/v1/engine/utils.py); exit 1.
    const log = createLogger();
    log.engine('ERROR', 'core.py:866', 'EngineCore failed to start.');
    log.engine('ERROR', 'core.py:866', `ValueError: ${e.message}`);
    process.stderr.write(
      `(APIServer pid=1) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {'EngineCore_DP0': 1}\n`,
    );
    process.exit(1);
  }
  process.stderr.write(`(APIServer pid=1) ERROR ${(e as Error).name}: ${(e as Error).message}\n`);
  process.exit(2);
});

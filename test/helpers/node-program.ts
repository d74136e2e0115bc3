/**
 * How a test starts one of the repository's TypeScript programs (a simulator's main) as a process: the compiled
 * module when the build is fresh, as the twin's kubelet and the bin run them (no compiler at start-up), else the
 * source under tsx. `nodeFlags` go before the program.
 */
import { runnableModule } from '../../common/build.mjs';

export function programArgs(rel: string, nodeFlags: readonly string[] = []): string[] {
  const program = runnableModule(rel);
  return program.endsWith('.ts') ? ['--import', 'tsx', ...nodeFlags, program] : [...nodeFlags, program];
}

/**
 * `pd-harness epp-decisions ...` alone: the program with only the commands this invocation can reach (the
 * root's `--version` and `epp-decisions`), bundled into one CommonJS file by common/build.mjs (BUNDLES) so
 * that the bin starts it without loading every command module (docs/benchmarks.md, figure 1). Options, help, errors and exit
 * codes are the full CLI's: the same `register` functions on the same program.
 */
import { register as registerEppDecisions } from '../commands/epp-decisions.ts';
import { register as registerVersion } from '../commands/version.ts';
import { newProgram, runProgram } from './program.ts';

const program = newProgram();
registerEppDecisions(program);
registerVersion(program);
void runProgram(program, process.argv); // no top-level await: the bundle is CommonJS

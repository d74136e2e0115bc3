// The CLI's errors are the core ones (core/errors.ts): every layer throws them, cli/main.ts maps them to exit codes.
export { EXIT, GuardRefusal, HarnessError, TargetError, UsageError, UserError, exitCodeOf } from '../core/errors.ts';

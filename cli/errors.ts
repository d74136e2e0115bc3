import { EXIT, HarnessError } from '../core/errors.ts';

export { EXIT, GuardRefusal, HarnessError, TargetError, UsageError, exitCodeOf } from '../core/errors.ts';

/** An error caused by the user's input or environment: printed as one line, never with a stack trace. */
export class UserError extends HarnessError {
  constructor(message: string, exitCode: number = EXIT.usage, opts: { cause?: unknown } = {}) {
    super(message, { ...opts, exitCode });
    this.name = 'UserError';
  }
}

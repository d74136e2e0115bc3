/**
 * Exit codes of `pd-harness` and the errors that carry them. One place, so the CLI, the runner and the
 * Playwright child agree on what each code means:
 *
 *   0 pass · 1 a criterion failed · 2 invalid input or usage · 3 target unreachable or unauthorized · 4 refused by the guard
 */
export const EXIT = {
  pass: 0,
  criterionFailed: 1,
  usage: 2,
  unreachable: 3,
  refused: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the user can act on: printed as one line (`pd-harness: message`), never with a stack trace. */
export class HarnessError extends Error {
  readonly exitCode: number;
  constructor(message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'HarnessError';
    this.exitCode = opts.exitCode ?? EXIT.usage;
  }
}

/** Bad input or usage: a suite, a flag, a missing tool or script (exit 2). */
export class UsageError extends HarnessError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: EXIT.usage });
    this.name = 'UsageError';
  }
}

/** The API server or the gateway cannot be reached, or the credentials may not do what the run needs (exit 3). */
export class TargetError extends HarnessError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: EXIT.unreachable });
    this.name = 'TargetError';
  }
}

/** The blast-radius guard refused the run before anything was written (exit 4). */
export class GuardRefusal extends HarnessError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, { ...opts, exitCode: EXIT.refused });
    this.name = 'GuardRefusal';
  }
}

/**
 * A wait ran out of time (exit 1: the run failed). The message names the value in force and, when the wait is
 * one of core/timeouts.ts's, its name, so the user knows which `--timeout NAME=DURATION` would change it.
 */
export class TimeoutError extends HarnessError {
  /** The core/timeouts.ts name of the wait, when it has one. */
  readonly timeoutName: string | undefined;
  constructor(message: string, opts: { cause?: unknown; timeoutName?: string } = {}) {
    super(message, { ...(opts.cause !== undefined ? { cause: opts.cause } : {}), exitCode: EXIT.criterionFailed });
    this.name = 'TimeoutError';
    this.timeoutName = opts.timeoutName;
  }
}

/** The exit code an error stands for: its own, else 1 (an unexpected failure counts as a failed run). */
export function exitCodeOf(err: unknown): number {
  return err instanceof HarnessError ? err.exitCode : EXIT.criterionFailed;
}

/** The first line of an error's message. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n')[0] ?? msg).trim();
}

/** An error caused by the user's input or environment, with an exit code (default: usage, 2). */
export class UserError extends HarnessError {
  constructor(message: string, exitCode: number = EXIT.usage, opts: { cause?: unknown } = {}) {
    super(message, { ...opts, exitCode });
    this.name = 'UserError';
  }
}

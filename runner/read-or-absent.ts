import { describeApiError, isNotFound } from '../cluster/errors.ts';
import { TargetError } from '../core/errors.ts';

/**
 * A read while observing: what is not there (404) is absent, and the caller says what that means; any other
 * failure (a 403, an unreachable API server) stops the run as a TargetError naming what could not be read,
 * never an empty result that a criterion would misread ("no route", "no measurement").
 */
export async function readOrAbsent<T>(what: string, read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new TargetError(`observe: cannot read ${what}: ${describeApiError(err)}`, { cause: err });
  }
}

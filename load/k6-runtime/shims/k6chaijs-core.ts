import { check, group } from './k6.ts';
import { test } from './execution.ts';

/**
 * Stand-in for the k6chaijs jslib (`https://jslib.k6.io/k6chaijs/4.3.4.2` … `4.5.0.1`, grafana/k6-jslib-k6chaijs
 * src/{config,assert,describe,exceptions,matchers}.ts; the published builds in grafana/jslib.k6.io
 * lib/k6chaijs/<version>/index.js): the real chai 4 (npm `chai`) with its `assert` method replaced so that
 * every assertion, passing or failing, is a k6 check. Written from reading that library, not copied.
 *
 * - check name (config.aggregateChecks, default true): the assertion's template with `#{exp}` rendered,
 *   `#{this}` replaced by the `expect(x, label)` label (or the literal `${this}`), `#{act}` by `${actual}`;
 *   the first "but " dropped ("expected 200 to equal 201" reads neutrally when it passes); cut at 100
 *   characters + "..." (config.truncateVariableThreshold). With aggregateChecks false: the full message,
 *   values rendered, prefixed by "label: ".
 * - a failing assertion throws chai's AssertionError (message: the full message, without the label when
 *   checks are aggregated); config.logFailures logs it with console.warn first; config.exitOnError (4.5.0.1
 *   and later) aborts the test with it (exec.test.abort).
 * - `describe(name, fn)` runs fn inside k6's group(name); returns true when fn returned, false when it threw.
 *   An AssertionError ends the describe quietly (its failed check is already recorded); any other exception
 *   is logged ("Exception raised in test ...") and recorded as a failed check named `Exception raised "<error>"`.
 *   Either way the iteration goes on. fn is called, not awaited (an async fn's promise is dropped, as there).
 * - `.validJsonBody()` calls `response.json('__unlikelyidefintifier1')` and passes unless that throws (k6
 *   returns undefined for a non-JSON body with a selector: only a null body fails); `.anonymize(fn)` rewrites
 *   the template (default: `#{this}` → `<anonymized>`).
 */

type Args = [unknown, unknown, unknown, unknown, unknown, unknown];
interface ChaiUtil {
  flag(obj: object, key: string, value?: unknown): unknown;
  test(obj: object, args: Args): boolean;
  getActual(obj: object, args: Args): unknown;
  objDisplay(v: unknown): string;
  getOperator(obj: object, args: Args): string | undefined;
}
export interface Chai {
  config: Record<string, unknown>;
  util: ChaiUtil;
  Assertion: {
    addMethod(name: string, fn: (this: object, ...a: never[]) => void): void;
    overwriteMethod(name: string, fn: (sup: unknown) => (this: object, ...a: Args) => void): void;
  };
  AssertionError: new (message: string, props: object, ssfi: unknown) => Error;
  assert: ((expression: unknown, ...rest: unknown[]) => void) & object;
  expect: (value: unknown, label?: string) => unknown;
}

/** What differs between the published versions (grafana/jslib.k6.io lib/k6chaijs/<version>/index.js). */
export interface K6ChaiVersion {
  /** 4.3.4.2: each check tagged `this`, `actual`, `expected` (removed in grafana/k6-jslib-k6chaijs bb52bd8). */
  checkTags: boolean;
  /** 4.5.0.1 onwards: config.exitOnError (grafana/k6-jslib-k6chaijs a62e59a). */
  exitOnError: boolean;
}

let installed: Chai | undefined;
let version: K6ChaiVersion = { checkTags: false, exitOnError: true };

const tag = (name: string): RegExp => new RegExp(`#{${name}}`, 'g');
const cut = (s: string, n: number): string => (s.length > n ? `${s.substring(0, n)}...` : s);

/** The chai instance of this VU with k6chaijs's configuration and plugins (installed once per VU). */
export function k6chai(v: K6ChaiVersion): Chai {
  version = v;
  if (installed) return installed;
  // loaded from node_modules by absolute path (bundle.ts RUNTIME_LIBS)
  const chai = require('chai') as Chai;
  const { util, config } = chai;
  config['truncateVariableThreshold'] = 100;
  config['truncateMsgThreshold'] = 300;
  config['aggregateChecks'] = true;
  config['logFailures'] = false;
  config['exitOnError'] = false;
  const limit = (): number => Number(config['truncateVariableThreshold']);
  const show = (x: unknown): string => cut(util.objDisplay(x), limit());

  chai.Assertion.addMethod('anonymize', function (this: object, fn?: (msg: string) => string) {
    util.flag(this, 'anonymizeMsgFunction', fn ?? ((msg: string) => msg.replace(tag('this'), () => '<anonymized>')));
  });
  chai.Assertion.addMethod('validJsonBody', function (this: object) {
    const response = util.flag(this, 'object') as { json(selector: string): unknown };
    let ok = true;
    try {
      response.json('__unlikelyidefintifier1');
    } catch {
      ok = false;
    }
    chai.assert(ok, 'has valid json body', 'does not have a valid json body', null, null);
  });
  chai.Assertion.overwriteMethod(
    'assert',
    () =>
      function (this: object, expression, successMessage, failureMessage, expected, actualArg) {
        // always six arguments: getActual reads the fifth (undefined unless the assertion passed one)
        const args: Args = [expression, successMessage, failureMessage, expected, actualArg, !expected && !actualArg];
        const ok = util.test(this, args);
        const actual = util.getActual(this, args);
        const label = util.flag(this, 'message') as string | undefined;
        const anonymize = util.flag(this, 'anonymizeMsgFunction') as ((m: string) => string) | undefined;
        let template: unknown = (util.flag(this, 'negate') ? failureMessage : successMessage) as string;
        template = (template as string).replace('but ', '');
        if (anonymize) template = anonymize(template as string);
        if (typeof template === 'function') template = (template as () => string)();
        const withExp = ((template as string) || '').replace(tag('exp'), () => show(expected));
        let full = withExp.replace(tag('this'), () => show(util.flag(this, 'object'))).replace(tag('act'), () => show(actual));
        if (label && !config['aggregateChecks']) full = `${label}: ${full}`;
        const name = config['aggregateChecks']
          ? cut(
              withExp.replace(tag('this'), () => label || '${this}').replace(tag('act'), () => '${actual}'),
              limit(),
            )
          : full;
        const tags = version.checkTags
          ? { this: show(util.flag(this, 'object')), actual: show(actual), expected: show(expected) }
          : undefined;
        check(null, { [name]: () => ok }, tags);
        if (ok) return;
        const message = cut(full, limit());
        if (config['logFailures']) console.warn(message);
        if (version.exitOnError && config['exitOnError']) test.abort(message);
        throw new chai.AssertionError(
          message,
          { actual, expected, showDiff: args[5], operator: util.getOperator(this, args) },
          config['includeStack'] ? chai.assert : util.flag(this, 'ssfi'),
        );
      },
  );
  installed = chai;
  return chai;
}

/** k6chaijs's describe: group + catch, true when fn returned (see the module comment). */
export function describe(name: string, fn: () => unknown): boolean {
  let success = true;
  group(name, () => {
    try {
      fn();
      success = true;
    } catch (error) {
      // exec.test.abort() interrupts the VM in k6 (rt.Interrupt): no JS catch sees it
      if ((error as { k6Abort?: boolean } | null)?.k6Abort) throw error;
      if ((error as { name?: unknown }).name !== 'AssertionError') {
        console.error(`Exception raised in test "${name}". Failing the test and continuing. \n${String(error)}`);
        check(null, { [`Exception raised "${String(error)}"`]: () => false });
      }
      success = false;
    }
  });
  return success;
}

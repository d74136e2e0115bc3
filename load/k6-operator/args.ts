import { UserError } from '../../core/errors.ts';

/**
 * `spec.arguments` of a TestRun. k6-operator appends it to the runner's `k6 run` command after splitting it
 * into words (it is not a shell line on every operator version), so pd-harness only emits words that need no
 * quoting anywhere: a value with whitespace, quotes or shell metacharacters is refused with one line.
 */
const SAFE_WORD = /^[A-Za-z0-9_./:=@%+,\-]+$/;

/**
 * Where the runner pods write k6's JSON points. The operator keeps no files of its runners, so the points go
 * to the pod's stdout and are read back from the pod log: k6's json output writes to stdout when its file
 * name is `-` (output/json: `if o.filename == "" || o.filename == "-"`). Not `/dev/stdout`: opening it fails
 * (ENXIO) where stdout is a socket, and a container runtime may give either.
 */
export const JSON_OUT = 'json=-';

export function buildArguments(env: Record<string, string>, extra: readonly string[] = []): string {
  const words: string[] = ['--out', JSON_OUT];
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new UserError(`k6-operator: env name ${JSON.stringify(k)} is not a valid variable name`);
    const word = `${k}=${v}`;
    if (!SAFE_WORD.test(word)) {
      throw new UserError(
        `k6-operator: env ${k}=${JSON.stringify(v)} cannot be passed in spec.arguments (no spaces, quotes or shell characters)`,
      );
    }
    words.push('-e', word);
  }
  for (const w of extra) {
    if (!SAFE_WORD.test(w))
      throw new UserError(
        `k6-operator: argument ${JSON.stringify(w)} cannot be passed in spec.arguments (no spaces, quotes or shell characters)`,
      );
    words.push(w);
  }
  return words.join(' ');
}

/** The words of `spec.arguments`, as the operator splits them. */
export function splitArguments(args: string | undefined): string[] {
  return (args ?? '').split(/\s+/).filter((w) => w !== '');
}

/** `-e K=V` pairs of an argument list (what the script sees as `__ENV`). */
export function envOfArguments(words: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    let kv: string | undefined;
    if (w === '-e' || w === '--env') kv = words[++i];
    else if (w.startsWith('--env=')) kv = w.slice('--env='.length);
    if (kv === undefined) continue;
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return env;
}

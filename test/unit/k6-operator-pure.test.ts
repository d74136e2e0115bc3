import { expect, test } from '@playwright/test';
import { UserError } from '../../cli/errors.ts';
import { buildArguments, envOfArguments, splitArguments } from '../../load/k6-operator/args.ts';
import { combineRunnerOutputs, crossedMetricsOfLog, splitRunnerLog } from '../../load/k6-operator/logs.ts';
import { judgeRun } from '../../load/k6-operator/runner.ts';
import { localImports, runnerSelector, scriptConfigMap, testRunManifest, testRunName } from '../../load/k6-operator/testrun.ts';
import { equalSegment } from '../../load/k6/k6-cli.ts';
import { segmentArgs } from '../../twin/controllers/testrun.ts';

function point(metric: string, time: string, value: number, tags: Record<string, string>): string {
  return JSON.stringify({ type: 'Point', data: { time, value, tags }, metric });
}
function declare(metric: string, type: string, thresholds: string[] = []): string {
  return JSON.stringify({ type: 'Metric', data: { name: metric, type, contains: 'default', thresholds, submetrics: null }, metric });
}
/** The lines k6 writes for one HTTP request, ending at `time`. */
function request(time: string, status: number, durationMs: number, extra: Record<string, string> = {}): string[] {
  const tags = {
    method: 'POST',
    name: 'chat-completions',
    status: String(status),
    url: 'http://127.0.0.1:1/v1/chat/completions',
    ...extra,
  };
  return [
    point('http_reqs', time, 1, tags),
    point('http_req_duration', time, durationMs, tags),
    point('http_req_waiting', time, durationMs / 2, tags),
    point('http_req_failed', time, status >= 200 && status < 400 ? 0 : 1, tags),
  ];
}

test.describe('spec.arguments', () => {
  test('env becomes -e words after --out json=- (points to stdout)', () => {
    const args = buildArguments({ GATEWAY: 'http://127.0.0.1:8080', MODEL: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', REQUESTS: '60' });
    expect(args).toBe('--out json=- -e GATEWAY=http://127.0.0.1:8080 -e MODEL=Qwen/Qwen3-Coder-30B-A3B-Instruct -e REQUESTS=60');
    expect(envOfArguments(splitArguments(args))).toEqual({
      GATEWAY: 'http://127.0.0.1:8080',
      MODEL: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
      REQUESTS: '60',
    });
  });

  test('a value the operator would split or a shell would read is refused in one line', () => {
    expect(() => buildArguments({ MODEL: 'two words' })).toThrow(UserError);
    expect(() => buildArguments({ X: "a'b" })).toThrow(/env X="a'b" cannot be passed in spec.arguments/);
    expect(() => buildArguments({ 'BAD-NAME': 'x' })).toThrow(/not a valid variable name/);
    expect(() => buildArguments({}, ['$(rm -rf)'])).toThrow(UserError);
  });

  test("runner i of n gets k6-operator's --execution-segment flags, and the built-in runtime reads them back as segment i-1 of n", () => {
    // k6-operator v1.6.0 pkg/segmentation NewCommandFragments: segment (i-1)/n:i/n, sequence 0,1/n,...,1
    expect(segmentArgs(1, 3)).toEqual(['--execution-segment=0:1/3', '--execution-segment-sequence=0,1/3,2/3,1']);
    expect(segmentArgs(2, 3)).toEqual(['--execution-segment=1/3:2/3', '--execution-segment-sequence=0,1/3,2/3,1']);
    expect(segmentArgs(3, 3)).toEqual(['--execution-segment=2/3:1', '--execution-segment-sequence=0,1/3,2/3,1']);
    for (let i = 1; i <= 3; i++) {
      const [seg, seq] = segmentArgs(i, 3).map((a) => a.slice(a.indexOf('=') + 1));
      expect(equalSegment(seg!, seq)).toEqual({ index: i - 1, count: 3 });
    }
    expect(() => equalSegment('0:1/3', '0,1/3,1')).toThrow(/only equal segments/);
    expect(() => equalSegment('0:2/3', undefined)).toThrow(/only equal segments/);
  });
});

test.describe('TestRun and ConfigMap manifests', () => {
  test('TestRun names are DNS-1123 and leave room for runner pod names', () => {
    const name = testRunName('PD Harness_k6!', 1_700_000_000_000, 0.5);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(`${name}-10-abcde`.length).toBeLessThanOrEqual(63);
    expect(testRunName('x', 1, 0.1)).not.toBe(testRunName('x', 1, 0.2));
  });

  test('the TestRun carries parallelism, the script ConfigMap and file, arguments and runner settings', () => {
    const tr = testRunManifest({
      name: 'r1',
      namespace: 'ns',
      configMap: 'r1-script',
      file: 'gateway-load.ts',
      parallelism: 3,
      arguments: '--out json=-',
      runnerImage: 'grafana/k6:1.0.0',
      runnerEnv: { A: 'b' },
    });
    expect(tr).toMatchObject({
      apiVersion: 'k6.io/v1alpha1',
      kind: 'TestRun',
      metadata: { name: 'r1', namespace: 'ns' },
      spec: {
        parallelism: 3,
        script: { configMap: { name: 'r1-script', file: 'gateway-load.ts' } },
        arguments: '--out json=-',
        runner: { image: 'grafana/k6:1.0.0', env: [{ name: 'A', value: 'b' }] },
      },
    });
    expect(() => testRunManifest({ name: 'r', namespace: 'n', configMap: 'c', file: 'f.js', parallelism: 0, arguments: '' })).toThrow(
      /parallelism must be/,
    );
    expect(runnerSelector('r1')).toBe('app=k6,k6_cr=r1,runner=true');
  });

  test('the script goes in as is (.ts stays .ts); local imports and oversize scripts are refused', () => {
    const cm = scriptConfigMap({ name: 'c', namespace: 'n', file: 'gateway-load.ts', content: "import http from 'k6/http';\n" });
    expect(cm['data']).toEqual({ 'gateway-load.ts': "import http from 'k6/http';\n" });
    expect(
      localImports("import { a } from './lib.ts';\nimport http from 'k6/http';\nexport { b } from \"../b.js\";\nimport './side.js';"),
    ).toEqual(['./lib.ts', '../b.js', './side.js']);
    expect(() => scriptConfigMap({ name: 'c', namespace: 'n', file: 's.ts', content: "import { a } from './lib.ts';" })).toThrow(
      /imports \.\/lib\.ts; .* bundle the script first/,
    );
    expect(() => scriptConfigMap({ name: 'c', namespace: 'n', file: 's.js', content: 'x'.repeat(1024 * 1024) })).toThrow(/at most 1 MiB/);
    expect(() => scriptConfigMap({ name: 'c', namespace: 'n', file: 'a b.js', content: '' })).toThrow(/not a valid ConfigMap key/);
  });
});

test.describe('runner logs into the result model', () => {
  const T = (s: number) => `2025-01-01T00:00:0${s}.000000000Z`;

  test('k6 JSON lines are told apart from stderr and summary lines', () => {
    const log = [
      'time="x" level=info msg="starting"',
      declare('http_reqs', 'counter'),
      '',
      '     http_reqs......: 1',
      ...request(T(1), 200, 10),
    ].join('\n');
    const { jsonText, otherLines } = splitRunnerLog(log);
    expect(jsonText.split('\n').filter((l) => l !== '')).toHaveLength(5);
    expect(jsonText.split('\n')[1]).toContain('"type":"Metric"');
    expect(otherLines).toEqual(['time="x" level=info msg="starting"', 'http_reqs......: 1']);
  });

  test('a generated suite script numbers its requests: merged records keep index pd_request - 1, with response id and error body', () => {
    const resp = (time: string, n: string, tags: Record<string, string>, bytes: number) =>
      point('pd_harness_response', time, bytes, { pd_request: n, ...tags });
    // runner 1 has requests 1 and 3 (segment 0:1/2 stripes 0, 2), runner 2 has request 2; request 3 ends first
    const a = {
      pod: 'r-1-aaaaa',
      exitCode: 0,
      log: [
        ...request(T(5), 200, 20, { pd_request: '1' }),
        resp(T(5), '1', { response_id: 'cmpl-a' }, 40),
        ...request(T(2), 200, 5, { pd_request: '3' }),
        resp(T(2), '3', { response_id: 'cmpl-c' }, 41),
      ].join('\n'),
    };
    const b = {
      pod: 'r-2-bbbbb',
      exitCode: 0,
      log: [...request(T(3), 429, 10, { pd_request: '2' }), resp(T(3), '2', { error_body: 'InferencePoolResourceExhausted' }, 30)].join(
        '\n',
      ),
    };
    const r = combineRunnerOutputs([a, b], '2025-01-01T00:00:00Z');
    expect(r.records.map((x) => [x.index, x.status, x.responseId ?? x.errorBody, x.bytes])).toEqual([
      [0, 200, 'cmpl-a', 40],
      [1, 429, 'InferencePoolResourceExhausted', 30],
      [2, 200, 'cmpl-c', 41],
    ]);
  });

  test('two runners merge into one run, in start order, with thresholds judged over both', () => {
    const decl = [
      declare('http_reqs', 'counter'),
      declare('http_req_duration', 'trend', ['p(95)<100']),
      declare('http_req_failed', 'rate', ['rate<0.01']),
    ];
    const a = {
      pod: 'r-1-aaaaa',
      exitCode: 0,
      log: [...decl, ...request(T(2), 200, 20, { instance_id: '1' }), ...request(T(4), 200, 30, { instance_id: '1' })].join('\n'),
    };
    const b = { pod: 'r-2-bbbbb', exitCode: 0, log: [...decl, ...request(T(3), 200, 10, { instance_id: '2' })].join('\n') };
    const r = combineRunnerOutputs([a, b], '2025-01-01T00:00:00Z');
    expect(r.engine).toBe('k6-operator');
    expect(r.records.map((x) => [x.index, x.tags?.['instance_id'], x.latencyMs, x.status])).toEqual([
      [0, '1', 20, 200],
      [1, '2', 10, 200],
      [2, '1', 30, 200],
    ]);
    expect(r.summary.byStatus).toEqual({ '200': 3 });
    expect(r.thresholds).toEqual([
      { metric: 'http_req_duration', expression: 'p(95)<100', ok: true },
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: true },
    ]);
  });

  test('a crossed threshold over the merged samples fails, though each runner alone might pass', () => {
    const decl = [declare('http_req_failed', 'rate', ['rate<0.4'])];
    const a = {
      pod: 'a',
      exitCode: 0,
      log: [...decl, ...request(T(1), 200, 5), ...request(T(2), 500, 5), ...request(T(3), 200, 5)].join('\n'),
    };
    const b = {
      pod: 'b',
      exitCode: 99,
      log: [
        ...decl,
        ...request(T(4), 500, 5),
        'time="x" level=error msg="thresholds on metrics \'http_req_failed\' have been crossed"',
      ].join('\n'),
    };
    const r = combineRunnerOutputs([a, b], 'now');
    expect(r.thresholds).toEqual([{ metric: 'http_req_failed', expression: 'rate<0.4', ok: false }]);
  });

  test("a runner's exit 99 counts even where the merged evaluation cannot judge (submetric threshold)", () => {
    const lines = [
      declare('http_req_duration{status:200}', 'trend', ['p(95)<1']),
      ...request(T(1), 200, 50),
      'level=error msg="thresholds on metrics \'http_req_duration{status:200}\' have been crossed"',
    ];
    const r = combineRunnerOutputs([{ pod: 'p', exitCode: 99, log: lines.join('\n') }], 'now');
    expect(r.thresholds).toEqual([{ metric: 'http_req_duration{status:200}', expression: 'crossed in runner p', ok: false }]);
    expect(crossedMetricsOfLog(['msg="thresholds on metrics \'a, b\' have been crossed"'])).toEqual(['a', 'b']);
    expect(crossedMetricsOfLog(['all good'])).toBeUndefined();
  });

  test('a malformed k6 line is one error naming the runner pod log and its line', () => {
    const log = ['starting', declare('http_reqs', 'counter'), '{"type":"Point","data":{"time":"2025-'].join('\n');
    expect(() => combineRunnerOutputs([{ pod: 'r-1-x', log }], 'now')).toThrow(
      /^malformed k6 output runner pod r-1-x log:3: not a JSON line/,
    );
  });
});

test.describe('judging a finished or failed TestRun', () => {
  const ok = { pod: 'r-1-a', exitCode: 0, log: '' };
  test('finished with every runner at 0 or 99 is judged from the points', () => {
    expect(() => judgeRun('r', 'finished', [ok, { pod: 'r-2-b', exitCode: 99, log: '' }])).not.toThrow();
    expect(() => judgeRun('r', 'error', [{ pod: 'r-1-a', exitCode: 99, log: '' }])).not.toThrow();
  });

  test('a runner that failed otherwise, stage error, or no runners: one line each', () => {
    const crashed = {
      pod: 'r-1-a',
      exitCode: 107,
      log: 'one\ntwo\ntime="t" level=error msg="TypeError: x is undefined\\n\\tat default (file:///test/s.js:3:1)"',
    };
    expect(() => judgeRun('r', 'finished', [crashed])).toThrow(
      'k6-operator: runner pod r-1-a of TestRun r failed (exit 107): one | two | TypeError: x is undefined',
    );
    expect(() =>
      judgeRun('r', 'error', [], {
        stage: 'error',
        conditions: [{ type: 'TestRunRunning', status: 'False', reason: 'Init', message: 'script not found' }],
      }),
    ).toThrow('k6-operator: TestRun r ended in stage error (Init: script not found); no runner pods');
    expect(() => judgeRun('r', 'finished', [])).toThrow(/finished but no runner pods \(labels app=k6,k6_cr=r,runner=true\)/);
  });
});

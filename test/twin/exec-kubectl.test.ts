import { expect } from '@playwright/test';
import { execa } from 'execa';
import type { TwinHandle } from '../../twin/launcher.ts';
import { seedTwinTest as test } from '../helpers/seed-twin.ts';

/**
 * `kubectl exec` against the twin (pods/exec over the WebSocket remote-command protocol): the seed
 * README's two direct backend tests verbatim, exit codes, stdin, the pod's context, cluster names from
 * curl / wget / Python, and the one line an SPDY-only kubectl gets.
 */
test.describe.configure({ mode: 'serial', timeout: 240_000 });

let twin: TwinHandle;

test.beforeAll(async ({ seedTwin }) => {
  const v = await execa('kubectl', ['version', '--client', '-o', 'json'], { reject: false });
  const minor = Number(
    (JSON.parse(v.stdout || '{}') as { clientVersion?: { minor?: string } }).clientVersion?.minor?.replace(/\D/g, '') ?? 0,
  );
  if (!(minor >= 31))
    throw new Error(`these tests need kubectl 1.31 or newer on PATH (WebSocket exec); found ${v.stdout ? `1.${minor}` : 'none'}`);
  twin = seedTwin;
  const ready = await execa('kubectl', ['wait', '--for=condition=Ready', 'pod', '--all', '-n', 'llm-d-vllm', '--timeout=180s'], {
    env: { KUBECONFIG: twin.kubeconfigPath },
    reject: false,
  });
  expect(ready.exitCode, ready.stderr).toBe(0);
});

const sh = (script: string, env: Record<string, string> = {}) =>
  execa('bash', ['-o', 'pipefail', '-c', script], { env: { KUBECONFIG: twin.kubeconfigPath, ...env }, reject: false, timeout: 120_000 });

/** The seed README's "Test P2P NCCL Backend" and "Test Filesystem Backend", verbatim. */
const SEED_P2P = `kubectl exec -n llm-d-vllm vllm-decode-p2p -- \\
  curl -sS -X POST http://vllm-p2p-proxy:8080/v1/completions \\
  -H "Content-Type: application/json" \\
  -d '{"model":"Qwen/Qwen3-Coder-30B-A3B-Instruct","prompt":"Hello","max_tokens":5}'`;
const SEED_FS = `kubectl exec -n llm-d-vllm vllm-decode-fs -- \\
  curl -sS -X POST http://vllm-fs-proxy:8080/v1/completions \\
  -H "Content-Type: application/json" \\
  -d '{"model":"Qwen/Qwen3-Coder-30B-A3B-Instruct","prompt":"Hello","max_tokens":5}'`;

test('the seed README direct backend tests run verbatim and answer a completion (P2P and filesystem)', async () => {
  for (const [script, decode] of [
    [SEED_P2P, 'vllm-decode-p2p'],
    [SEED_FS, 'vllm-decode-fs'],
  ] as const) {
    const r = await sh(script);
    expect(r.exitCode, r.stderr).toBe(0);
    const body = JSON.parse(r.stdout) as {
      object: string;
      model: string;
      choices: { text: string }[];
      usage: { completion_tokens: number };
    };
    expect(body.object).toBe('text_completion');
    expect(body.model).toBe('Qwen/Qwen3-Coder-30B-A3B-Instruct');
    expect(body.usage.completion_tokens).toBe(5);
    // the proxy put the disaggregated pair in the completion id, so the request went through the P/D path
    expect(JSON.stringify(body)).toContain(decode);
  }
});

test('exit codes propagate through the status channel; stdout and stderr stay apart; stdin with -i', async () => {
  const r = await sh(`kubectl exec -n llm-d-vllm vllm-decode-fs -- sh -c 'echo out; echo err >&2; exit 3'`);
  expect(r.exitCode).toBe(3);
  expect(r.stdout).toBe('out');
  expect(r.stderr).toContain('err');
  expect(r.stderr).toContain('command terminated with exit code 3');
  const ok = await sh(`printf 'a\\nb\\n' | kubectl exec -i -n llm-d-vllm vllm-decode-fs -- wc -l`);
  expect(ok.exitCode, ok.stderr).toBe(0);
  expect(ok.stdout.trim()).toBe('2');
  const missing = await sh(`kubectl exec -n llm-d-vllm vllm-decode-fs -- no-such-program-pdh`);
  expect(missing.exitCode).toBe(126);
  expect(missing.stdout).toContain('executable file not found in $PATH');
});

test("the command runs in the pod's context: env, HOSTNAME, POD_IP, working directory", async () => {
  const r = await sh(`kubectl exec -n llm-d-vllm vllm-decode-fs -- sh -c 'echo "$HOSTNAME|$POD_NAMESPACE|$POD_IP"; pwd'`);
  expect(r.exitCode, r.stderr).toBe(0);
  const [line, cwd] = r.stdout.split('\n');
  const ip = (await sh(`kubectl get pod -n llm-d-vllm vllm-decode-fs -o jsonpath='{.status.podIP}'`)).stdout;
  expect(line).toBe(`vllm-decode-fs|llm-d-vllm|${ip}`);
  expect(cwd).toContain(twin.stateDir);
});

test('cluster names (svc, svc.ns, FQDN) and localhost resolve as in the pod, for curl, wget and Python', async () => {
  const models = (cmd: string) => sh(`kubectl exec -n llm-d-vllm vllm-decode-fs -- ${cmd}`);
  const wget = await models('wget -qO- http://vllm-fs-proxy.llm-d-vllm:8080/v1/models');
  expect(wget.exitCode, wget.stderr).toBe(0);
  expect(wget.stdout).toContain('"object":"list"');
  const py = await models(
    `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://vllm-fs-proxy.llm-d-vllm.svc.cluster.local:8080/v1/models").status)'`,
  );
  expect(py.exitCode, py.stderr).toBe(0);
  expect(py.stdout.trim()).toBe('200');
  // localhost in a pod is the pod itself: the decode vLLM listens on 8000
  const self = await models('curl -sS http://localhost:8000/v1/models');
  expect(self.exitCode, self.stderr).toBe(0);
  expect(self.stdout).toContain('Qwen/Qwen3-Coder-30B-A3B-Instruct');
  const unknown = await models('curl -sS http://no-such-service-pdh:8080/');
  expect(unknown.stdout).toContain('Could not resolve host: no-such-service-pdh');
});

test('errors before the upgrade: unknown pod, unknown container, and SPDY-only kubectl gets one line naming the version', async () => {
  const nopod = await sh('kubectl exec -n llm-d-vllm no-such-pod -- true');
  expect(nopod.exitCode).not.toBe(0);
  expect(nopod.stderr).toContain('pods "no-such-pod" not found');
  const noc = await sh('kubectl exec -n llm-d-vllm vllm-decode-fs -c nope -- true');
  expect(noc.exitCode).not.toBe(0);
  expect(noc.stderr).toContain('container nope is not valid for pod vllm-decode-fs');
  // kubectl 1.31+ speaks SPDY when its WebSocket feature is turned off: what kubectl <= 1.30 does.
  const spdy = await sh('kubectl exec -n llm-d-vllm vllm-decode-fs -- true', { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' });
  expect(spdy.exitCode).not.toBe(0);
  expect(spdy.stderr.trim().split('\n')).toHaveLength(1);
  expect(spdy.stderr).toContain('use kubectl 1.31 or newer');
});

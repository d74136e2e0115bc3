/**
 * The twin's API server and kubelet in a fresh temp state dir, for tests of pods as processes. A handle with
 * an idempotent `stop()` (kubelet first, so its pods die before the API server does; then the dir goes).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CoreV1Api, KubeConfig, type V1Pod } from '#client-node';
import type { ApiServerHandle } from '../../twin/apiserver/server.ts';
import type { KubeletHandle } from '../../twin/kubelet/index.ts';

export interface ApiAndKubelet {
  stateDir: string;
  /** Pod IPs are `<ipPrefix>.x.y`. */
  ipPrefix: string;
  api: ApiServerHandle;
  kubelet: KubeletHandle;
  kc: KubeConfig;
  core: CoreV1Api;
  stop(): Promise<void>;
}

/** `ipPrefix` defaults to a free random prefix (the kubelet locks it), so parallel test files never share pod IPs. */
export async function startApiAndKubelet(name: string, ipPrefix = 'random'): Promise<ApiAndKubelet> {
  // Imported here, not at the top, so Playwright's test listing does not load the whole twin.
  const { startApiServer } = await import('../../twin/apiserver/server.ts');
  const { startKubelet } = await import('../../twin/kubelet/index.ts');
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  let api: ApiServerHandle | undefined;
  let kubelet: KubeletHandle | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await kubelet?.stop();
      await api?.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    })());
  try {
    api = await startApiServer({ stateDir });
    kubelet = await startKubelet({ kubeconfigPath: api.kubeconfigPath, stateDir, ipPrefix });
  } catch (err) {
    await stop();
    throw err;
  }
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  return { stateDir, ipPrefix: kubelet.ipPrefix, api, kubelet, kc, core: kc.makeApiClient(CoreV1Api), stop };
}

export const podCondition = (pod: V1Pod, type: string): string | undefined => pod.status?.conditions?.find((c) => c.type === type)?.status;

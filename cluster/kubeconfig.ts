import { DEFAULT_TIMEOUTS, formatTimeout } from '../core/timeouts.ts';
import { existsSync } from 'node:fs';
import { KubeConfig, VersionApi } from '#client-node';
import { TargetError } from '../core/errors.ts';
import { apiErrorInfo } from './errors.ts';
import { shareKeepAliveAgent } from '../common/kube-client.ts';

export { TargetError } from '../core/errors.ts';

/** Loads a kubeconfig file; every failure is one line that says what to fix. */
export function loadKubeConfig(path: string): KubeConfig {
  if (!existsSync(path)) {
    throw new TargetError(`kubeconfig not found: ${path} (pass --kubeconfig or set KUBECONFIG)`);
  }
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(path);
  } catch (err) {
    throw new TargetError(`kubeconfig ${path} is not valid: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (!kc.getCurrentContext() || !kc.getCurrentCluster()) {
    throw new TargetError(`kubeconfig ${path} has no current context/cluster (kubectl config use-context NAME)`);
  }
  // one keep-alive connection pool for the run's many calls, not a TLS handshake per call (client-node 1.4)
  return shareKeepAliveAgent(kc);
}

/** What the run talks to, safe to print and attach: no tokens, no certificates. */
export interface TargetInfo {
  context: string;
  server: string;
  user?: string;
  serverVersion?: string;
}

export function describeKubeConfig(kc: KubeConfig): TargetInfo {
  return {
    context: kc.getCurrentContext(),
    server: kc.getCurrentCluster()?.server ?? '(none)',
    user: kc.getCurrentUser()?.name,
  };
}

/** Reads /version; fails at once with one clear line when the API server cannot be used. */
export async function checkApiServer(kc: KubeConfig, timeoutMs = DEFAULT_TIMEOUTS.apiServer): Promise<TargetInfo> {
  const info = describeKubeConfig(kc);
  const api = kc.makeApiClient(VersionApi);
  let timer: NodeJS.Timeout | undefined;
  try {
    const version = await Promise.race([
      api.getCode(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${formatTimeout(timeoutMs)} (timeout apiServer)`)), timeoutMs);
      }),
    ]);
    return { ...info, serverVersion: version.gitVersion };
  } catch (err) {
    const e = apiErrorInfo(err);
    if (e.code === 401 || e.code === 403) {
      throw new TargetError(
        `the API server at ${info.server} rejected the credentials of context "${info.context}" (${e.code}): check the kubeconfig user`,
        { cause: err },
      );
    }
    throw new TargetError(`cannot reach the API server at ${info.server} (context "${info.context}"): ${e.message}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One keep-alive HTTPS agent per KubeConfig, for the twin's own clients of its API server (kubelet, operator,
 * gateway, all in the twin's process) and for the harness's cluster driver (cluster/kubeconfig.ts).
 * client-node 1.4 builds a new https.Agent for every request (KubeConfig.createAgent, called from
 * applySecurityAuthentication / applyToFetchOptions): a new TLS connection and a new SecureContext (the CA
 * parsed again) per call, on both sides of the loopback. A profile of the seed topology's start-up had ~9% of
 * the twin process's CPU there. Here every client made from one KubeConfig shares one keep-alive agent with
 * the same options; requests and watches are unchanged. The agent also holds one TLS SecureContext built from
 * those options: without it, tls.connect builds one (parsing the CA, certificate and key) for every new
 * connection, and a twin host's watches and concurrent calls open many.
 */
import * as https from 'node:https';
import * as tls from 'node:tls';
import { KubeConfig } from '#client-node';

export function loadKeepAliveKubeConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return shareKeepAliveAgent(kc);
}

/** Makes every client of `kc` share one keep-alive agent (plain HTTPS servers only; proxies and http: unchanged). */
export function shareKeepAliveAgent(kc: KubeConfig): KubeConfig {
  const cluster = kc.getCurrentCluster();
  // only the plain HTTPS case (the twin's own kubeconfig); proxies and http: keep client-node's agents
  if (!cluster || cluster.proxyUrl || !cluster.server.startsWith('https:')) return kc;
  let agent: https.Agent | undefined;
  const patched = kc as unknown as { createAgent: (c: unknown, options: https.AgentOptions) => https.Agent };
  patched.createAgent = (_cluster, options) =>
    (agent ??= new https.Agent({ ...options, keepAlive: true, secureContext: tls.createSecureContext(options) }));
  return kc;
}

import { UserError } from '../core/errors.ts';

/** True for localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Load goes to loopback unless the caller opts in (a real cluster's gateway): a typo must not load
 * someone else's server.
 */
export function assertLoadTarget(baseUrl: string, allowRemote = false): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UserError(`load target is not a URL: ${baseUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`load target must be http(s): ${baseUrl}`);
  }
  if (!allowRemote && !isLoopbackHost(url.hostname)) {
    throw new UserError(`refusing to send load to ${url.host}: not a loopback address (set allowRemote for a real cluster's gateway)`);
  }
  return url;
}

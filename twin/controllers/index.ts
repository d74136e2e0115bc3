/** Starts the in-process controllers against the API server's object layer. */
import type { Api } from '../apiserver/api.ts';

export function startControllers(_api: Api): { stop(): void } {
  return { stop() {} };
}

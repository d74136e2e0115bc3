import { currentHttp, installClient, TempoClient, type TempoOptions } from './http-instrumentation.ts';

/**
 * The http-instrumentation-tempo jslib 1.0.1 and later 1.0.x (see http-instrumentation.ts): instrumentHTTP
 * wraps k6/http as it is at that call, so it chains with an earlier instrumentation.
 */
export const Client = TempoClient;

export function instrumentHTTP(opts: TempoOptions): void {
  installClient(new TempoClient(opts, currentHttp()));
}

export default { Client, instrumentHTTP };

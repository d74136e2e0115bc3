import { httpAtLoad, installClient, TempoClient, type TempoOptions } from './http-instrumentation.ts';

/**
 * The http-instrumentation-tempo jslib 1.0.0 (see http-instrumentation.ts): its Client wraps k6/http as it was
 * when the module loaded, so an earlier instrumentation (pyroscope) is bypassed.
 */
export class Client extends TempoClient {
  constructor(opts: TempoOptions) {
    super(opts, httpAtLoad);
  }
}

export function instrumentHTTP(opts: TempoOptions): void {
  installClient(new Client(opts));
}

export default { Client, instrumentHTTP };

import { installClient, PyroscopeClient } from './http-instrumentation.ts';

/** The http-instrumentation-pyroscope jslib 1.0.x (see http-instrumentation.ts). */
export const Client = PyroscopeClient;

export function instrumentHTTP(): void {
  installClient(new PyroscopeClient());
}

export default { Client, instrumentHTTP };

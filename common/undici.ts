/**
 * undici's dispatchers (Agent, Client, Pool) and their request API, loaded without undici's index. The index loads
 * all of undici (fetch, WebSocket, EventSource, cache stores, mock agents, and Node's own bundled undici, which its
 * cookies module reaches through `globalThis.Headers`): ~150 ms of CPU in every process that imports it, against
 * ~55 ms for these modules. That is every k6 process on the built-in runtime (the tests' stand-in k6 and the twin's
 * grafana/k6 pods, ~100 starts in `npm test`), every twin host (the gateway's pools) and the built-in load engine.
 * ESLint refuses value imports of 'undici' itself; its types come from the package as before.
 */
import type * as undici from 'undici';
import AgentImpl from 'undici/lib/dispatcher/agent.js';
import ClientImpl from 'undici/lib/dispatcher/client.js';
import DispatcherImpl from 'undici/lib/dispatcher/dispatcher.js';
import PoolImpl from 'undici/lib/dispatcher/pool.js';
import api from 'undici/lib/api/index.js';

// What undici's index does before it exports anything: request, stream, pipeline, connect and upgrade on every
// dispatcher (undici 7 index.js, `Object.assign(Dispatcher.prototype, api)`).
Object.assign(DispatcherImpl.prototype, api);

export const Agent = AgentImpl;
export type Agent = undici.Agent;
export const Client = ClientImpl;
export type Client = undici.Client;
export const Pool = PoolImpl;
export type Pool = undici.Pool;
export type { Dispatcher } from 'undici';

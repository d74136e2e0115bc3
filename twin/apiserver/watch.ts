/** `watch=true` streams: newline-delimited JSON watch events over a chunked response. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Api, ListOptions } from './api.ts';
import type { ResourceType } from './resources.ts';
import { typeKey } from './resources.ts';
import type { Obj } from './selectors.ts';
import type { StoreEvent } from './store.ts';
import { errors } from './status.ts';

export interface WatchOptions extends ListOptions {
  namespace?: string;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
  apiVersion: string;
  bookmarkIntervalMs?: number;
  /** Turns an object into what the client asked for (a version, a Table row). */
  present: (o: Obj) => Obj;
}

const DEFAULT_TIMEOUT_S = 1800;

export function serveWatch(req: IncomingMessage, res: ServerResponse, api: Api, t: ResourceType, opts: WatchOptions): void {
  const key = typeKey(t.group, t.plural);
  const inScope = (o: Obj) => (!t.namespaced || !opts.namespace || o.metadata?.namespace === opts.namespace) && api.matches(o, opts);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();

  let lastRv = 0;
  let closed = false;
  const send = (type: string, object: Obj) => {
    if (closed) return;
    res.write(`${JSON.stringify({ type, object })}\n`);
  };
  const onEvent = (e: StoreEvent) => {
    if (e.key !== key || e.rv <= lastRv) return;
    lastRv = e.rv;
    const now = inScope(e.object);
    const before = e.type === 'MODIFIED' && e.old ? inScope(e.old) : now;
    if (e.type === 'ADDED' && now) send('ADDED', opts.present(e.object));
    else if (e.type === 'DELETED' && now) send('DELETED', opts.present(e.object));
    else if (e.type === 'MODIFIED') {
      if (now && before) send('MODIFIED', opts.present(e.object));
      else if (now) send('ADDED', opts.present(e.object));
      else if (before) send('DELETED', opts.present(e.object));
    }
  };

  const buffered: StoreEvent[] = [];
  let live = false;
  const unsubscribe = api.store.subscribe((e) => (live ? onEvent(e) : buffered.push(e)));

  const rv = opts.resourceVersion;
  if (!rv || rv === '0') {
    lastRv = api.store.currentRv();
    for (const o of api.list(t, opts.namespace, opts).items) send('ADDED', opts.present(o));
  } else {
    const since = Number(rv);
    const past = Number.isFinite(since) ? api.store.eventsSince(key, since) : 'expired';
    if (past === 'expired') {
      const err = errors.gone(`too old resource version: ${rv} (${api.store.currentRv()})`);
      send('ERROR', err.toStatus() as Obj);
      unsubscribe();
      res.end();
      return;
    }
    lastRv = since;
    for (const e of past) onEvent(e);
  }
  for (const e of buffered) onEvent(e);
  live = true;

  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    for (const tm of timers) clearTimeout(tm);
    res.end();
  };
  timers.push(setTimeout(finish, (opts.timeoutSeconds && opts.timeoutSeconds > 0 ? opts.timeoutSeconds : DEFAULT_TIMEOUT_S) * 1000));
  if (opts.allowBookmarks) {
    const tick = setInterval(() => {
      send('BOOKMARK', {
        kind: t.kind,
        apiVersion: opts.apiVersion,
        metadata: { resourceVersion: String(Math.max(lastRv, api.store.currentRv())) },
      });
    }, opts.bookmarkIntervalMs ?? 5000);
    timers.push(tick);
  }
  req.on('close', finish);
  res.on('close', finish);
  res.on('error', finish);
}

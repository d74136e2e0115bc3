import { expect, test } from '@playwright/test';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { EppAgents, openEppStream } from '../../twin/gateway/epp-stream.ts';
import { abortAfter } from '../../twin/gateway/abort-after.ts';

/*
 * The gateway's EPP stream runs in the twin's process: a pick cut by its signal (the client went away, the pick
 * timed out) must reject the pick and leave no 'error' event unhandled (an unhandled one ends the twin).
 * An EPP here that reads the request and never answers.
 */
test('a pick aborted before it starts, or while the EPP has not answered, rejects and leaves no unhandled error', async () => {
  const open = new Set<Socket>();
  const server = http.createServer((req) => req.resume());
  server.on('connection', (s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const hostPort = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const agents = new EppAgents();
  const uncaught: Error[] = [];
  const record = (e: Error) => uncaught.push(e);
  process.on('uncaughtException', record);
  try {
    const before = new AbortController();
    before.abort();
    await expect(openEppStream(agents, hostPort, { requestId: 'a' }, before.signal)).rejects.toThrow(/abort/);
    const during = new AbortController();
    const pick = openEppStream(agents, hostPort, { requestId: 'b' }, during.signal);
    await expect.poll(() => open.size).toBeGreaterThan(0);
    during.abort();
    await expect(pick).rejects.toThrow(/abort/);
    // every connection closed on both sides, then one more turn of the event loop for the client's events
    await expect.poll(() => open.size).toBe(0);
    await new Promise((r) => setImmediate(r));
    expect(uncaught.map((e) => e.message)).toEqual([]);
  } finally {
    process.off('uncaughtException', record);
    agents.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('the EPP pick deadline: the request abort or the timeout, whichever first; done() leaves no timer behind', async () => {
  const parent = new AbortController();
  const viaParent = abortAfter(parent.signal, 60_000);
  parent.abort(new Error('client gone'));
  expect(viaParent.signal.aborted).toBe(true);
  expect((viaParent.signal.reason as Error).message).toBe('client gone');
  viaParent.done();

  const timedOut = abortAfter(new AbortController().signal, 10);
  await new Promise((r) => timedOut.signal.addEventListener('abort', r, { once: true }));
  expect((timedOut.signal.reason as DOMException).name).toBe('TimeoutError');
  timedOut.done();

  // done before the deadline: the timer is cleared (a timer due at 10 ms would fire before one due at 50 ms)
  const finished = abortAfter(new AbortController().signal, 10);
  finished.done();
  await new Promise((r) => setTimeout(r, 50));
  expect(finished.signal.aborted).toBe(false);
  // and the parent's listener is gone: its abort no longer reaches the finished deadline
  const parent2 = new AbortController();
  const d2 = abortAfter(parent2.signal, 60_000);
  d2.done();
  parent2.abort();
  expect(d2.signal.aborted).toBe(false);
});

import { expect, test } from '@playwright/test';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { UserError } from '../../cli/errors.ts';
import { runK6ScriptReport, type K6RunReport } from '../../load/k6-runtime/run.ts';

/*
 * k6/ws in the built-in k6 runtime (load/k6-runtime/shims/ws.ts, ws-main.ts) against a loopback WebSocket server
 * started here, on scripts of our own (test/fixtures/k6/ws). Expected values from k6 v2.2.0
 * internal/js/modules/k6/ws/ws.go (cited per assertion).
 */

const dir = path.resolve(import.meta.dirname, '../fixtures/k6/ws');

interface WsServer {
  url: string;
  /** Text and binary (as "bin:1,2,3") messages received, and the handshake headers, per connection. */
  received: string[];
  handshakes: http.IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** An echo server: /echo echoes every message and closes with 4000 "bye" on "close-me"; /reject answers 404. */
async function startWsServer(): Promise<WsServer> {
  const received: string[] = [];
  const handshakes: http.IncomingHttpHeaders[] = [];
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => {
    handshakes.push(req.headers);
    if (req.url === '/reject') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        received.push(isBinary ? `bin:${[...data].join(',')}` : data.toString());
        if (!isBinary && data.toString() === 'close-me') ws.close(4000, 'bye');
        else ws.send(data, { binary: isBinary });
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    handshakes,
    close: () =>
      new Promise<void>((r) => {
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Run {
  r: K6RunReport;
  s: WsServer;
  logs: string[];
}

async function run(file: string): Promise<Run> {
  const s = await startWsServer();
  const logs: string[] = [];
  try {
    const r = await runK6ScriptReport({ script: path.join(dir, file), env: { WS_URL: s.url }, log: (l) => logs.push(l) });
    return { r, s, logs };
  } finally {
    await s.close();
  }
}

const consoleLines = (logs: string[]): string[] =>
  logs.filter((l) => l.endsWith(' source=console')).map((l) => l.replace(/^INFO /, '').replace(/ source=console$/, ''));

test('ws.connect blocks until the socket closes; events, messages and metrics as k6/ws gives them', async () => {
  const { r, s, logs } = await run('echo.js');
  // ws.go Connect: fn(socket), then `open`, then the control loop: echoes in order, the pong of our ping; the
  // server's close 4000 is unexpected (not 1000/1001): an `error` event first (readPump), then `close` with its code
  const one = ['text hello', 'binary 1,2,3', 'pong', 'error websocket: close 4000: bye', 'closed 4000', 'returned after close: true'];
  expect(consoleLines(logs)).toEqual([...one, ...one]);
  expect(s.received).toEqual(['hello', 'bin:1,2,3', 'close-me', 'hello', 'bin:1,2,3', 'close-me']);
  // parseConnectArgs: User-Agent k6's, params.headers added
  expect(s.handshakes.map((h) => [h['user-agent'], h['x-test']])).toEqual([
    ['k6/2.2.0 (https://k6.io/)', 'yes'],
    ['k6/2.2.0 (https://k6.io/)', 'yes'],
  ]);
  // the returned response: status 101 (wrapHTTPResponse), one check per iteration
  const checks = r.metrics.series.get('checks');
  expect(checks?.values).toEqual([1, 1]);
  // metrics: ws_sessions and ws_connecting per dial, ws_msgs_sent per send/sendBinary (3), ws_msgs_received per
  // message (2), ws_ping per pong of ours, ws_session_duration per connect
  expect(r.metrics.count('ws_sessions')).toBe(2);
  expect(r.metrics.count('ws_msgs_sent')).toBe(6);
  expect(r.metrics.count('ws_msgs_received')).toBe(4);
  for (const m of ['ws_ping', 'ws_connecting', 'ws_session_duration']) expect(r.metrics.series.get(m)?.values).toHaveLength(2);
  // tags: the iteration's, params.tags, url, and status/subproto from the handshake response (dial)
  expect(r.metrics.series.get('ws_sessions')?.tags[0]).toEqual({
    scenario: 'default',
    group: '',
    my_tag: 'hello',
    url: `${s.url}/echo`,
    status: '101',
    subproto: '',
  });
  expect(r.errors).toEqual([]);
  expect(r.iterations.complete).toBe(2);
});

test("the socket's timers run in its loop; a throwing handler closes the socket (1001) and fails the iteration", async () => {
  const { r, s, logs } = await run('timers-throw.js');
  expect(consoleLines(logs)).toEqual([
    'first closed 1000',
    // SetTimeout: a timeout <= 0 is an error; Connect: an exception in a handler ends connect, the deferred
    // socket.Close() closes it with 1001 (CloseGoingAway) and runs the close handlers
    'second closed 1001 (setTimeout requires a >0 timeout parameter, received 0.00)',
  ]);
  const ticks = s.received.filter((m) => m.startsWith('tick '));
  expect(ticks.slice(0, 3)).toEqual(['tick 1', 'tick 2', 'tick 3']);
  // every send counts, and none is made after close: the server got exactly what ws_msgs_sent counts
  expect(r.metrics.count('ws_msgs_sent')).toBe(ticks.length + 1);
  expect(r.errors.map((e) => e.message)).toEqual(['Error: handler failed']);
  expect(r.iterations.complete).toBe(1);
});

test('failed handshakes: connect returns the response or the error, the function is not called', async () => {
  const { r, logs } = await run('failures.js');
  expect(consoleLines(logs)).toEqual([
    // a non-101 answer: wrapHTTPResponse (status, body), error empty
    'reject 404 [] not found',
    // no response: HTTPResponse{Error: err.Error()}
    'down 0 [dial tcp 127.0.0.1:1: connect: connection refused]',
  ]);
  // dial pushes ws_sessions even when it fails
  expect(r.metrics.count('ws_sessions')).toBe(2);
  expect(r.errors).toEqual([]);
});

test('a WebSocket to a non-loopback host is refused and not opened; the browser-like API is refused up front', async () => {
  for (const [file, re] of [
    ['remote.js', /refusing to open a WebSocket to example\.com: not a loopback address/],
    ['browser-like.js', /unsupported import 'k6\/websockets': the browser-like WebSocket API \(k6\/ws is supported\)/],
  ] as const) {
    const s = await startWsServer();
    try {
      const err = await runK6ScriptReport({ script: path.join(dir, file), env: { WS_URL: s.url }, log: () => {} }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).message).toMatch(re);
      expect((err as UserError).message.split('\n')).toHaveLength(1);
      expect(s.handshakes).toHaveLength(0);
    } finally {
      await s.close();
    }
  }
});

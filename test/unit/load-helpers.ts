import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server for load tests that observes what the engine does (real sockets, port 0). */
export interface ObservingServer {
  url: string;
  /** Requests received (path, body, headers) in arrival order. */
  received: { path: string; body: string; headers: http.IncomingHttpHeaders; atMs: number }[];
  inFlight: number;
  maxInFlight: number;
  /** Open TCP connections right now. */
  connections: number;
  /** TCP connections accepted since the server started. */
  connectionsOpened: number;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Routes: `/slow?ms=N` answers after N ms; `/sse` streams three chunks; `/status/N` answers N with an EPP-like
 * body; `/reset` destroys the socket; `/big?kb=N` answers an id-first JSON of N KiB; `/late-id` a JSON whose
 * top-level id comes after a nested one; anything else answers an OpenAI-like JSON with an id.
 */
export async function startObservingServer(): Promise<ObservingServer> {
  const sockets = new Set<import('node:net').Socket>();
  const state = { received: [] as ObservingServer['received'], inFlight: 0, maxInFlight: 0, connectionsOpened: 0 };
  const server = http.createServer(async (req, res) => {
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const url = new URL(req.url ?? '/', 'http://x');
      state.received.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString(), headers: req.headers, atMs: Date.now() });
      if (url.pathname === '/slow') {
        await sleep(Number(url.searchParams.get('ms') ?? '100'));
        if (res.destroyed) return;
      }
      if (url.pathname === '/reset') {
        req.socket.destroy();
        return;
      }
      const statusRoute = /^\/status\/(\d{3})(?:\/|$)/.exec(url.pathname);
      if (statusRoute) {
        const code = Number(statusRoute[1]);
        res.writeHead(code, { 'content-type': 'text/plain' });
        res.end('inference gateway: InferencePoolResourceExhausted - failed to find target pod: no pods available for the given request');
        return;
      }
      if (url.pathname === '/big') {
        const kb = Number(url.searchParams.get('kb') ?? '100');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'cmpl-big', object: 'chat.completion', pad: 'x'.repeat(kb * 1024) }));
        return;
      }
      if (url.pathname === '/late-id') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'chat.completion', choices: [{ id: 'inner' }], id: 'cmpl-late' }));
        return;
      }
      if (url.pathname === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'x-served-by': 'vllm-decode-p2p' });
        res.write(': keep-alive comment\n\n');
        await sleep(30);
        res.write('data: {"id":"cmpl-sse-1","choices":[{"delta":{"content":"he"}}]}\n\n');
        await sleep(60);
        res.write('data: {"id":"cmpl-sse-1","choices":[{"delta":{"content":"llo"}}]}\n\n');
        await sleep(30);
        res.end('data: [DONE]\n\n');
        return;
      }
      if (url.pathname === '/v1/completions-cut') {
        // a decode pod killed mid-stream: 200 and a token, then the connection drops (no [DONE], no chunked end)
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"id":"cmpl-cut-1","choices":[{"text":"he"}]}\n\n');
        await sleep(20);
        res.socket?.destroy();
        return;
      }
      if (url.pathname === '/sse-error' || url.pathname === '/v1/completions-sse-error') {
        // vLLM after its engine died mid-stream: a token, then the error event as Python's json.dumps writes it
        // (split over two writes), then [DONE] (serving_completion.py → create_streaming_error_response)
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"id":"cmpl-err-1","choices":[{"text":"he"}]}\n\n');
        await sleep(5);
        res.write(
          'data: {"error": {"message": "EngineCore encountered an issue. See stack trace (above) for the root cause.", "type": "BadRe',
        );
        await sleep(5);
        res.write('questError", "param": null, "code": 400}}\n\n');
        res.end('data: [DONE]\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'vllm-decode-fs', authorization: 'Bearer secret' });
      res.end(JSON.stringify({ id: `cmpl-${state.received.length}`, object: 'chat.completion', choices: [] }));
    } finally {
      state.inFlight--;
    }
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    state.connectionsOpened++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get received() {
      return state.received;
    },
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    get connections() {
      return sockets.size;
    },
    get connectionsOpened() {
      return state.connectionsOpened;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A loopback port with nothing listening (bound then closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

import { createHash } from 'node:crypto';
import * as http from 'node:http';
import { runK6ScriptReport, type K6RunReport } from '../../load/k6-runtime/run.ts';
import type { AddressInfo } from 'node:net';

/**
 * A small loopback server for the k6 corpus, with the kinds of endpoints k6's examples, k6-learn,
 * QuickPizza and the docs call (httpbin-like echo, a JSON API with login cookies, an HTML page with links,
 * redirects, statuses). It counts every request it sees, by path.
 */
export interface CorpusServer {
  url: string;
  /** Requests seen, as `METHOD path?query`, in arrival order. */
  seen: { method: string; path: string; body: string; headers: http.IncomingHttpHeaders }[];
  count(pathPrefix?: string): number;
  close(): Promise<void>;
}

function cookiesOf(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) out[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  return out;
}

const HTML = `<!doctype html><html><head><title>Corpus Shop</title></head><body>
<h1 class="title">Welcome</h1>
<ul id="nav"><li><a href="/page/1">One</a></li><li><a href="/page/2">Two</a></li><li><a href="/page/3" data-x="3">Three</a></li></ul>
<form action="/post" method="post"><input name="csrf" value="tok-123"><select name="size"><option value="s">S</option><option value="l" selected>L</option></select></form>
</body></html>`;

export async function startCorpusServer(): Promise<CorpusServer> {
  const seen: CorpusServer['seen'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    seen.push({ method: req.method ?? 'GET', path: req.url ?? '/', body, headers: req.headers });
    const json = (status: number, v: unknown, headers: Record<string, string | string[]> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(v));
    };
    let m: RegExpExecArray | null;
    if (p === '/' || p.startsWith('/page/')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(p === '/' ? HTML : `<html><head><title>Page ${p.slice(6)}</title></head><body><p>page</p></body></html>`);
    } else if (p === '/api/json') {
      json(200, {
        id: 'obj-1',
        meta: { count: 3, 'dotted.key': 'yes' },
        items: [
          { name: 'margherita', price: 9 },
          { name: 'diavola', price: 11 },
          { name: 'funghi', price: 10 },
        ],
      });
    } else if ((m = /^\/digest-auth\/(auth|auth-int)\/([^/]+)\/([^/]+)$/.exec(p))) {
      // httpbin's /digest-auth/{qop}/{user}/{passwd} (RFC 2617, MD5): 401 with a challenge, 200 for a right answer
      const [, qop, user, pass] = m as unknown as [string, string, string, string];
      const realm = 'corpus@example.org';
      const nonce = 'n0nce1234';
      const auth = req.headers.authorization ?? '';
      const f = Object.fromEntries([...auth.matchAll(/(\w+)=("([^"]*)"|[^,\s]+)/g)].map((x) => [x[1], x[3] ?? x[2]]));
      const md5 = (t: string) => createHash('md5').update(t).digest('hex');
      const ha1 = md5(`${user}:${realm}:${pass}`);
      const ha2 = md5(`${req.method}:${f['uri']}`);
      const ok =
        auth.startsWith('Digest ') &&
        f['username'] === user &&
        f['response'] === md5(`${ha1}:${nonce}:${f['nc']}:${f['cnonce']}:${f['qop']}:${ha2}`);
      if (ok) json(200, { authenticated: true, user });
      else {
        res.writeHead(401, {
          'www-authenticate': `Digest realm="${realm}", nonce="${nonce}", qop="${qop}", opaque="0pq", algorithm=MD5, stale=FALSE`,
        });
        res.end();
      }
    } else if (p === '/api/login' && req.method === 'POST') {
      const form = new URLSearchParams(body);
      let user = form.get('username');
      if (!user) {
        try {
          user = (JSON.parse(body) as { username?: string }).username ?? null;
        } catch {
          user = null;
        }
      }
      if (!user) json(400, { error: 'username required' });
      else
        json(
          200,
          { token: `token-${user}` },
          { 'set-cookie': [`session=sess-${user}; Path=/; HttpOnly`, 'theme=dark; Path=/; Max-Age=3600'] },
        );
    } else if (p === '/api/me') {
      const c = cookiesOf(req);
      const auth = req.headers.authorization ?? '';
      if (c['session'] || auth.startsWith('Bearer token-'))
        json(200, { user: c['session']?.replace('sess-', '') ?? auth.replace('Bearer token-', '') });
      else json(401, { error: 'unauthorized' });
    } else if (p === '/api/logout') {
      json(200, { ok: true });
    } else if (p === '/cookies/set') {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': [...url.searchParams].map(([k, v]) => `${k}=${v}; Path=/`) });
      res.end(JSON.stringify({ cookies: Object.fromEntries(url.searchParams) }));
    } else if (p === '/cookies') {
      json(200, { cookies: cookiesOf(req), raw: req.headers.cookie ?? '' });
    } else if ((m = /^\/redirect\/(\d+)$/.exec(p))) {
      const n = Number(m[1]);
      res.writeHead(302, { location: n <= 1 ? '/get' : `/redirect/${n - 1}` });
      res.end();
    } else if (p === '/get' || p === '/headers') {
      json(200, { url: req.url, headers: req.headers, args: Object.fromEntries(url.searchParams) });
    } else if ((m = /^\/status\/(\d{3})$/.exec(p))) {
      res.writeHead(Number(m[1]), { 'content-type': 'text/plain' });
      res.end(`status ${m[1]}`);
    } else if (p === '/post' || p === '/put' || p === '/anything') {
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = null;
      }
      json(200, {
        method: req.method,
        data: body,
        json: parsed,
        form: Object.fromEntries(new URLSearchParams(body)),
        headers: req.headers,
      });
    } else if (p === '/crocodiles/') {
      json(
        200,
        [1, 2, 3, 4].map((id) => ({ id, name: `croc-${id}`, sex: id % 2 ? 'M' : 'F' })),
      );
    } else if ((m = /^\/crocodiles\/(\d+)\/$/.exec(p))) {
      const id = Number(m[1]);
      if (id > 4) json(404, { detail: 'Not found.' });
      else json(200, { id, name: `croc-${id}`, sex: id % 2 ? 'M' : 'F' });
    } else if (p === '/api/pizza' && req.method === 'POST') {
      json(200, {
        pizza: { id: seen.length, name: 'Corpus Special', ingredients: [{ name: 'tomato' }, { name: 'basil' }], tool: 'oven' },
        calories: 700,
      });
    } else if (p === '/delay') {
      await new Promise((r) => setTimeout(r, Number(url.searchParams.get('ms') ?? '100')));
      json(200, { delayed: true });
    } else {
      json(404, { error: 'not found' });
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    count: (prefix = '') => seen.filter((s) => s.path.startsWith(prefix)).length,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Runs a k6 script on the built-in runtime against a fresh corpus server (BASE_URL): the report, the server, the log lines. */
export async function runAgainstCorpusServer(script: string): Promise<{ r: K6RunReport; s: CorpusServer; logs: string[] }> {
  const s = await startCorpusServer();
  const logs: string[] = [];
  try {
    const r = await runK6ScriptReport({ script, env: { BASE_URL: s.url }, log: (l) => logs.push(l) });
    return { r, s, logs };
  } finally {
    await s.close();
  }
}

/** The twin's Kubernetes API server: HTTP routing on top of the object layer. */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import * as path from 'node:path';
import { parse as parseYaml } from '#yaml';
import { Api } from './api.ts';
import type { DeleteOptions, ListOptions } from './api.ts';
import { AUTHZ_GROUP, AUTHZ_VERSION, reviewSelfSubjectAccess } from './authorization.ts';
import { apiGroupDoc, apiGroupList, apiResourceList, apiVersions, VERSION_INFO } from './discovery.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { loadOrCreateServingCert } from './tls.ts';
import { serveLog } from './logs.ts';
import type { LogOptions } from './logs.ts';
import { OPENAPI_V2_JSON, openApiV2Protobuf, openApiV3Doc, openApiV3Index } from './openapi.ts';
import { patchTypeOf } from './patch.ts';
import { checkLogOptions, checkPropagationPolicy, deleteDryRun, paginate, patchQuery, queryBool, queryInt, writeQuery } from './query.ts';
import { handleUpgrade } from './exec-proxy.ts';
import { decodeK8sProtobuf } from './protobuf.ts';
import { apiVersionOf } from './resources.ts';
import type { ResourceType } from './resources.ts';
import { DEFAULT_NODES, seed } from './seed.ts';
import type { NodeSpec } from './seed.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { Obj } from './selectors.ts';
import { ApiError, errors } from './status.ts';
import { toTable, wantsTable } from './tables.ts';
import { serveWatch } from './watch.ts';

export interface ApiServerOptions {
  stateDir: string;
  port?: number;
  host?: string;
  token?: string;
  nodes?: NodeSpec[];
  /** Start the in-process controllers (default true). */
  controllers?: boolean;
  /** How many past events a watch can resume from (default 5000). */
  watchHistoryLimit?: number;
  /** Watch bookmark interval (tests shorten it). */
  bookmarkIntervalMs?: number;
}

export interface ApiServerHandle {
  url: string;
  token: string;
  kubeconfigPath: string;
  /** The object layer, for in-process use (controllers, tests). */
  api: Api;
  stop(): Promise<void>;
}

const MAX_BODY = 16 * 1024 * 1024;

interface Route {
  group: string;
  version: string;
  t: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return readRawBody(req).then((b) => b.toString('utf8'));
}

/** A request body as an object: JSON, YAML, or (for a few kinds) Kubernetes protobuf. */
async function readObjectBody(req: http.IncomingMessage): Promise<unknown> {
  const ct = (req.headers['content-type'] ?? '').toLowerCase();
  if (ct.includes('protobuf')) {
    const raw = await readRawBody(req);
    let obj: unknown;
    try {
      obj = decodeK8sProtobuf(raw);
    } catch (e) {
      throw errors.badRequest(`the request body could not be decoded: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (obj === undefined)
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        'the twin API server decodes protobuf only for Namespace, ConfigMap, Secret and ServiceAccount; send JSON or YAML (e.g. kubectl apply -f)',
      );
    return obj;
  }
  return parseBody(await readBody(req), req.headers['content-type']);
}

function readRawBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ApiError(413, 'RequestEntityTooLarge', 'the request body is too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(text: string, contentType: string | undefined): unknown {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('protobuf') || ct.includes('cbor'))
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format (${ct.split(';')[0]}) - accepted media types include: application/json, application/yaml`,
    );
  if (!text.trim()) return undefined;
  try {
    if (ct.includes('yaml')) return parseYaml(text);
    return JSON.parse(text);
  } catch (e) {
    throw errors.badRequest(`the request body could not be decoded: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
}

function sendJson(res: http.ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

const intParam = queryInt;
const boolParam = queryBool;

export class ApiServer {
  readonly api: Api;
  private address = '';

  constructor(
    private readonly opts: ApiServerOptions,
    private readonly token: string,
  ) {
    this.api = new Api(opts.watchHistoryLimit ? { historyLimit: opts.watchHistoryLimit } : {});
  }

  setAddress(addr: string): void {
    this.address = addr;
  }

  authorized(req: http.IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    if (!m) return false;
    const got = Buffer.from(m[1]!.trim());
    const want = Buffer.from(this.token);
    return got.length === want.length && timingSafeEqual(got, want);
  }

  handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    this.dispatch(req, res).catch((e: unknown) => {
      const err =
        e instanceof ApiError
          ? e
          : new ApiError(500, 'InternalError', `Internal error occurred: ${e instanceof Error ? e.message : String(e)}`);
      if (!(e instanceof ApiError)) process.stderr.write(`twin apiserver: ${req.method} ${req.url?.split('?')[0]}: ${err.message}\n`);
      if (res.headersSent) res.end();
      else sendJson(res, err.code, err.toStatus());
    });
  };

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://twin');
    const p = url.pathname.replace(/\/+$/, '') || '/';
    if (p === '/healthz' || p === '/livez' || p === '/readyz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok');
      return;
    }
    if (!this.authorized(req)) throw errors.unauthorized();
    const method = req.method ?? 'GET';
    const reg = this.api.registry;
    if (method === 'GET') {
      if (p === '/version') return sendJson(res, 200, VERSION_INFO);
      if (p === '/api') return sendJson(res, 200, apiVersions(this.address));
      if (p === '/apis') return sendJson(res, 200, apiGroupList(reg));
      if (p === '/openapi/v3') return sendJson(res, 200, openApiV3Index(reg));
      if (p === '/openapi/v2') {
        if ((req.headers.accept ?? '').includes('protobuf')) {
          const body = openApiV2Protobuf();
          res.writeHead(200, {
            'Content-Type': 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
            'Content-Length': body.length,
          });
          res.end(body);
          return;
        }
        return sendJson(res, 200, OPENAPI_V2_JSON);
      }
      const oa = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(p);
      if (oa) {
        const doc = oa[1] ? openApiV3Doc(reg, '', oa[1]) : openApiV3Doc(reg, oa[2]!, oa[3]!);
        if (!doc) throw errors.pathNotFound();
        return sendJson(res, 200, doc);
      }
    }
    const segs = p.split('/').filter(Boolean);
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) [group, version, rest] = ['', segs[1]!, segs.slice(2)];
    else if (segs[0] === 'apis' && segs.length >= 3) [group, version, rest] = [segs[1]!, segs[2]!, segs.slice(3)];
    else if (segs[0] === 'apis' && segs.length === 2 && method === 'GET') {
      const doc = apiGroupDoc(reg, segs[1]!);
      if (!doc) throw errors.pathNotFound();
      return sendJson(res, 200, doc);
    } else throw errors.pathNotFound();

    if (rest.length === 0) {
      if (method !== 'GET') throw errors.methodNotAllowed();
      const doc = apiResourceList(reg, group, version);
      if (!doc) throw errors.pathNotFound();
      return sendJson(res, 200, doc);
    }
    if (group === AUTHZ_GROUP && version === AUTHZ_VERSION && rest.length === 1 && rest[0] === 'selfsubjectaccessreviews') {
      if (method !== 'POST') throw errors.methodNotAllowed();
      return sendJson(res, 201, reviewSelfSubjectAccess(await readObjectBody(req)));
    }
    const route = this.route(group, version, rest);
    if (!route) throw errors.pathNotFound();
    await this.resource(req, res, url.searchParams, route);
  }

  private route(group: string, version: string, rest: string[]): Route | undefined {
    const reg = this.api.registry;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const t = reg.lookup(group, version, rest[2]!);
      if (t?.namespaced) {
        if (rest.length > 5) return undefined;
        return { group, version, t, namespace: rest[1]!, ...(rest[3] ? { name: rest[3] } : {}), ...(rest[4] ? { sub: rest[4] } : {}) };
      }
    }
    const t = reg.lookup(group, version, rest[0]!);
    if (!t || rest.length > 3) return undefined;
    if (t.namespaced && rest.length > 1) return undefined;
    return { group, version, t, ...(rest[1] ? { name: rest[1] } : {}), ...(rest[2] ? { sub: rest[2] } : {}) };
  }

  private present(route: Route, o: Obj): Obj {
    const apiVersion = apiVersionOf(route.group, route.version);
    return o.apiVersion === apiVersion ? o : { ...o, apiVersion };
  }

  private async resource(req: http.IncomingMessage, res: http.ServerResponse, q: URLSearchParams, route: Route): Promise<void> {
    const api = this.api;
    const { t, namespace: ns, name, sub } = route;
    const method = req.method ?? 'GET';
    const listOpts = (): ListOptions => ({
      labelSelector: parseLabelSelector(q.get('labelSelector')),
      fieldSelector: parseFieldSelector(q.get('fieldSelector')),
    });
    const accept = req.headers.accept;
    const table = wantsTable(accept);
    const includeObject = q.get('includeObject') ?? undefined;
    const out = (o: Obj) => this.present(route, o);

    if (!name) {
      if (method === 'GET') {
        const lo = listOpts();
        if (boolParam(q, 'watch')) {
          const rv = q.get('resourceVersion') ?? undefined;
          const timeout = intParam(q, 'timeoutSeconds');
          return serveWatch(req, res, api, t, {
            ...lo,
            ...(ns ? { namespace: ns } : {}),
            ...(rv !== undefined ? { resourceVersion: rv } : {}),
            ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
            allowBookmarks: boolParam(q, 'allowWatchBookmarks'),
            apiVersion: apiVersionOf(route.group, route.version),
            ...(this.opts.bookmarkIntervalMs ? { bookmarkIntervalMs: this.opts.bookmarkIntervalMs } : {}),
            present: table ? (o) => toTable(t, [out(o)], o.metadata.resourceVersion, includeObject) : out,
          });
        }
        const listed = api.list(t, ns, lo);
        const { resourceVersion } = listed;
        const page = paginate(listed.items, q, resourceVersion);
        const items = page.items;
        const more = page.continue ? { continue: page.continue, remainingItemCount: page.remainingItemCount } : {};
        if (table) {
          const tbl = toTable(t, items.map(out), resourceVersion, includeObject);
          return sendJson(res, 200, { ...tbl, metadata: { ...(tbl.metadata as Obj), ...more } });
        }
        return sendJson(res, 200, {
          kind: `${t.kind}List`,
          apiVersion: apiVersionOf(route.group, route.version),
          metadata: { resourceVersion, ...more },
          items: items.map(out),
        });
      }
      if (method === 'POST') {
        if (t.namespaced && !ns) throw errors.methodNotAllowed();
        const wq = writeQuery(q, 'CreateOptions');
        const body = await readObjectBody(req);
        const created = api.create(t, ns, body, wq);
        return sendJson(res, 201, out(created));
      }
      if (method === 'DELETE') {
        const body = parseBody(await readBody(req), req.headers['content-type']) as Obj | undefined;
        const dopts = this.deleteOptions(q, body);
        // dryRun=All: nothing is deleted (the real server answers what it would delete).
        const deleted = deleteDryRun(q) ? api.list(t, ns, listOpts()).items : api.deleteCollection(t, ns, listOpts(), dopts);
        const { resourceVersion } = api.list(t, ns, {});
        return sendJson(res, 200, {
          kind: `${t.kind}List`,
          apiVersion: apiVersionOf(route.group, route.version),
          metadata: { resourceVersion },
          items: deleted.map(out),
        });
      }
      throw errors.methodNotAllowed();
    }

    if (!sub) {
      switch (method) {
        case 'GET': {
          const o = api.get(t, ns, name);
          if (table) return sendJson(res, 200, toTable(t, [out(o)], o.metadata.resourceVersion, includeObject));
          return sendJson(res, 200, out(o));
        }
        case 'PUT': {
          const wq = writeQuery(q, 'UpdateOptions');
          const body = await readObjectBody(req);
          return sendJson(res, 200, out(api.update(t, ns, name, body, wq)));
        }
        case 'PATCH':
          return this.patch(req, res, q, route, undefined);
        case 'DELETE': {
          const body = parseBody(await readBody(req), req.headers['content-type']) as Obj | undefined;
          const dopts = this.deleteOptions(q, body);
          if (deleteDryRun(q)) return sendJson(res, 200, out(api.get(t, ns, name)));
          return sendJson(res, 200, out(api.delete(t, ns, name, dopts)));
        }
        default:
          throw errors.methodNotAllowed();
      }
    }

    if (sub === 'status' && t.status) {
      if (method === 'GET') return sendJson(res, 200, out(api.get(t, ns, name)));
      if (method === 'PUT') {
        const wq = writeQuery(q, 'UpdateOptions');
        const body = parseBody(await readBody(req), req.headers['content-type']);
        return sendJson(res, 200, out(api.update(t, ns, name, body, { subresource: 'status', ...wq })));
      }
      if (method === 'PATCH') return this.patch(req, res, q, route, 'status');
      throw errors.methodNotAllowed();
    }
    if (sub === 'scale' && t.scale) {
      if (method === 'GET') return sendJson(res, 200, api.getScale(t, ns, name));
      if (method === 'PUT') {
        const { dryRun } = writeQuery(q, 'UpdateOptions');
        const body = parseBody(await readBody(req), req.headers['content-type']);
        return sendJson(res, 200, api.updateScale(t, ns, name, body as Obj, dryRun));
      }
      if (method === 'PATCH') {
        const type = patchTypeOf(req.headers['content-type']);
        if (!type)
          throw new ApiError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
          );
        const { dryRun } = patchQuery(q, type === 'apply');
        const body = parseBody(await readBody(req), type === 'apply' ? 'application/yaml' : req.headers['content-type']);
        return sendJson(res, 200, api.patchScale(t, ns, name, type, body, dryRun));
      }
      throw errors.methodNotAllowed();
    }
    if (sub === 'log' && t.group === '' && t.plural === 'pods') {
      if (method !== 'GET') throw errors.methodNotAllowed();
      const lo: LogOptions = {};
      const c = q.get('container');
      if (c) lo.container = c;
      lo.previous = boolParam(q, 'previous');
      lo.follow = boolParam(q, 'follow');
      lo.timestamps = boolParam(q, 'timestamps');
      const since = intParam(q, 'sinceSeconds');
      if (since !== undefined) lo.sinceSeconds = since;
      const sinceTime = q.get('sinceTime');
      if (sinceTime) lo.sinceTime = sinceTime;
      const tail = intParam(q, 'tailLines');
      if (tail !== undefined) lo.tailLines = tail;
      const limit = intParam(q, 'limitBytes');
      if (limit !== undefined) lo.limitBytes = limit;
      checkLogOptions(name, lo);
      return serveLog(req, res, api, this.opts.stateDir, ns ?? 'default', name, lo);
    }
    if (['exec', 'attach', 'portforward'].includes(sub) && t.group === '' && t.plural === 'pods')
      throw errors.badRequest('Upgrade request required');
    if (sub === 'binding' && t.group === '' && t.plural === 'pods') {
      if (method !== 'POST') throw errors.methodNotAllowed();
      const body = parseBody(await readBody(req), req.headers['content-type']) as Obj | undefined;
      const node = body?.target?.name;
      if (!node)
        throw errors.invalid('Binding', '', name, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'target.name' }]);
      const pod = api.get(t, ns, name);
      if (pod.spec?.nodeName) throw errors.conflict('', 'pods', name, `pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      api.mutate(t, ns, name, (o) => {
        o.spec.nodeName = node;
      });
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    throw errors.pathNotFound();
  }

  private async patch(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    q: URLSearchParams,
    route: Route,
    subresource: 'status' | undefined,
  ): Promise<void> {
    const type = patchTypeOf(req.headers['content-type']);
    if (!type)
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${route.t.crd ? '' : ', application/strategic-merge-patch+json'}`,
      );
    const pq = patchQuery(q, type === 'apply');
    const body = parseBody(await readBody(req), type === 'apply' ? 'application/yaml' : 'application/json');
    if (body === undefined) throw errors.badRequest('the request body is empty');
    const existed = !!this.api.tryGet(route.t, route.namespace, route.name!);
    const result = this.api.patch(route.t, route.namespace, route.name!, type, body, { ...(subresource ? { subresource } : {}), ...pq });
    sendJson(res, existed ? 200 : 201, this.present(route, result));
  }

  private deleteOptions(q: URLSearchParams, body: Obj | undefined): DeleteOptions {
    const opts: DeleteOptions = {};
    const grace = intParam(q, 'gracePeriodSeconds') ?? (typeof body?.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : undefined);
    if (grace !== undefined) opts.gracePeriodSeconds = grace;
    const policy = checkPropagationPolicy(
      q.get('propagationPolicy') ?? body?.propagationPolicy ?? (body?.orphanDependents === true ? 'Orphan' : undefined),
    );
    if (policy) opts.propagationPolicy = policy;
    if (body?.preconditions) opts.preconditions = body.preconditions;
    return opts;
  }
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServerHandle> {
  fs.mkdirSync(opts.stateDir, { recursive: true });
  const token = opts.token ?? randomBytes(24).toString('hex');
  const server = new ApiServer(opts, token);
  seed(server.api, opts.nodes ?? DEFAULT_NODES);
  const host = opts.host ?? '127.0.0.1';
  const cert = loadOrCreateServingCert(opts.stateDir);
  const httpServer = https.createServer({ key: cert.keyPem, cert: cert.certPem }, server.handle);
  httpServer.keepAliveTimeout = 30_000;
  httpServer.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
    handleUpgrade(server.api, (r) => server.authorized(r), req, socket, head),
  );
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const url = `https://${host}:${port}`;
  server.setAddress(`${host}:${port}`);
  const kubeconfigPath = path.join(opts.stateDir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, url, token, cert.certPem);

  let stopControllers: (() => void) | undefined;
  if (opts.controllers !== false) {
    const { startControllers } = await import('../controllers/index.ts');
    stopControllers = startControllers(server.api).stop;
  }

  let stopped: Promise<void> | undefined;
  return {
    url,
    token,
    kubeconfigPath,
    api: server.api,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        stopControllers?.();
        httpServer.close(() => resolve());
        httpServer.closeAllConnections();
      });
      return stopped;
    },
  };
}

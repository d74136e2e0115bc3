/**
 * A small list+watch client for the EPP process: the same job as @kubernetes/client-node's informer for the
 * two resources the EPP reads, without loading client-node's thousands of modules on every EPP start (that
 * import dominated an EPP rollout on a loaded 2-core box). The harness side keeps using client-node.
 */
import { readFileSync } from 'node:fs';
import * as https from 'node:https';
import * as http from 'node:http';
import { parse as parseYaml } from '#yaml';

export interface ApiAccess {
  server: string;
  token?: string;
  ca?: Buffer;
  insecure?: boolean;
}

interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: {
    name: string;
    cluster: {
      server: string;
      'certificate-authority-data'?: string;
      'certificate-authority'?: string;
      'insecure-skip-tls-verify'?: boolean;
    };
  }[];
  users?: { name: string; user: { token?: string; tokenFile?: string } }[];
}

/** Reads the current context of a kubeconfig (the twin's: server, CA, bearer token). */
export function apiAccessFromKubeconfig(path: string): ApiAccess {
  const kc = parseYaml(readFileSync(path, 'utf8')) as KubeconfigFile;
  const ctx = kc.contexts?.find((c) => c.name === kc['current-context']) ?? kc.contexts?.[0];
  const cluster = kc.clusters?.find((c) => c.name === ctx?.context.cluster)?.cluster;
  const user = kc.users?.find((u) => u.name === ctx?.context.user)?.user;
  if (!cluster?.server) throw new Error(`kubeconfig ${path}: no cluster server in the current context`);
  const ca = cluster['certificate-authority-data']
    ? Buffer.from(cluster['certificate-authority-data'], 'base64')
    : cluster['certificate-authority']
      ? readFileSync(cluster['certificate-authority'])
      : undefined;
  const token = user?.token ?? (user?.tokenFile ? readFileSync(user.tokenFile, 'utf8').trim() : undefined);
  return {
    server: cluster.server.replace(/\/+$/, ''),
    ...(token ? { token } : {}),
    ...(ca ? { ca } : {}),
    insecure: !!cluster['insecure-skip-tls-verify'],
  };
}

export interface K8sObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
  [k: string]: unknown;
}

type Handler = (obj: K8sObject) => void;

function request(access: ApiAccess, path: string): http.ClientRequest {
  const url = new URL(access.server + path);
  const mod = url.protocol === 'https:' ? https : http;
  return mod.request(url, {
    headers: { Accept: 'application/json', ...(access.token ? { Authorization: `Bearer ${access.token}` } : {}) },
    ...(url.protocol === 'https:' ? { ca: access.ca, rejectUnauthorized: !access.insecure } : {}),
  });
}

function getJson(access: ApiAccess, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(access, path);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        } catch (err) {
          reject(err);
        }
      });
      res.once('error', reject);
    });
    req.once('error', reject);
    req.end();
  });
}

export class HttpStatusError extends Error {
  constructor(
    readonly code: number,
    path: string,
  ) {
    super(`GET ${path}: HTTP ${code}`);
  }
}

/** List, then watch from the list's resourceVersion; relists when the watch ends or fails. */
export class LightInformer {
  private readonly objects = new Map<string, K8sObject>();
  private readonly handlers: Record<'add' | 'update' | 'delete' | 'error', Handler[] | ((err: unknown) => void)[]> = {
    add: [],
    update: [],
    delete: [],
    error: [],
  };
  private watchReq: http.ClientRequest | undefined;
  private stopped = false;

  constructor(
    private readonly access: ApiAccess,
    private readonly path: string,
  ) {}

  on(event: 'add' | 'update' | 'delete', fn: Handler): void;
  on(event: 'error', fn: (err: unknown) => void): void;
  on(event: 'add' | 'update' | 'delete' | 'error', fn: Handler | ((err: unknown) => void)): void {
    (this.handlers[event] as unknown[]).push(fn);
  }

  get(name: string, namespace?: string): K8sObject | undefined {
    return this.objects.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): K8sObject[] {
    return [...this.objects.values()].filter((o) => namespace === undefined || o.metadata?.namespace === namespace);
  }

  /** Resolves once the first list is in; rejects when it fails (the caller retries). */
  async start(): Promise<void> {
    this.stopped = false;
    const res = await getJson(this.access, this.path);
    if (res.status !== 200) throw new HttpStatusError(res.status, this.path);
    const list = res.body as { items?: K8sObject[]; metadata?: { resourceVersion?: string } };
    const seen = new Set<string>();
    for (const item of list.items ?? []) {
      const key = keyOf(item);
      seen.add(key);
      const had = this.objects.has(key);
      this.objects.set(key, item);
      this.emit(had ? 'update' : 'add', item);
    }
    for (const [key, obj] of [...this.objects]) {
      if (!seen.has(key)) {
        this.objects.delete(key);
        this.emit('delete', obj);
      }
    }
    this.watch(list.metadata?.resourceVersion ?? '0');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watchReq?.destroy();
  }

  private watch(resourceVersion: string): void {
    if (this.stopped) return;
    const sep = this.path.includes('?') ? '&' : '?';
    const req = request(
      this.access,
      `${this.path}${sep}watch=true&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(resourceVersion)}`,
    );
    this.watchReq = req;
    let rv = resourceVersion;
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        this.fail(new HttpStatusError(res.statusCode ?? 0, this.path));
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as { type: string; object: K8sObject };
          if (ev.type === 'ERROR') {
            req.destroy();
            this.fail(new Error(`watch ${this.path}: ${JSON.stringify(ev.object).slice(0, 200)}`));
            return;
          }
          rv = ev.object.metadata?.resourceVersion ?? rv;
          if (ev.type === 'BOOKMARK') continue;
          const key = keyOf(ev.object);
          if (ev.type === 'DELETED') {
            this.objects.delete(key);
            this.emit('delete', ev.object);
          } else {
            const had = this.objects.has(key);
            this.objects.set(key, ev.object);
            this.emit(had ? 'update' : 'add', ev.object);
          }
        }
      });
      res.once('end', () => {
        if (!this.stopped) this.watch(rv);
      });
      res.once('error', (err) => this.fail(err));
    });
    req.once('error', (err) => this.fail(err));
    req.end();
  }

  private fail(err: unknown): void {
    if (this.stopped) return;
    for (const fn of this.handlers.error as ((err: unknown) => void)[]) fn(err);
  }

  private emit(event: 'add' | 'update' | 'delete', obj: K8sObject): void {
    for (const fn of this.handlers[event] as Handler[]) fn(obj);
  }
}

function keyOf(o: K8sObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.ts';
import { isPidAlive } from '../common/pid-alive.ts';
import { isSecretKey, redact } from '../core/redact.ts';

export interface ObjectKey {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** The key of an object (a manifest, an API object or a ref with top-level name and namespace). */
export function keyOf(obj: {
  apiVersion: string;
  kind: string;
  metadata?: { name?: string; namespace?: string };
  name?: string;
  namespace?: string;
}): ObjectKey {
  const name = obj.metadata?.name ?? obj.name ?? '';
  const namespace = obj.metadata?.namespace ?? obj.namespace;
  return { apiVersion: obj.apiVersion, kind: obj.kind, name, ...(namespace ? { namespace } : {}) };
}

/** One string per object: a key for sets and maps of ObjectKeys. */
export function keyString(k: ObjectKey): string {
  return `${k.apiVersion}|${k.kind}|${k.namespace ?? ''}|${k.name}`;
}

/** A core v1 Namespace (a kind named Namespace in another group is an ordinary object). */
export const isNamespace = (k: ObjectKey): boolean => k.kind === 'Namespace' && k.apiVersion === 'v1';

/**
 * Which deleted objects a cleanup waits for now and which it leaves to a later wait (`deferNamespaces`: the
 * verdict does not wait for the namespace controller). Deferred: the deleted Namespaces, and with them every
 * object deleted inside one of them, since a namespace is gone only once all its contents are (the namespace
 * controller deletes them first, on a real cluster and in the twin), so the later wait for the namespace covers
 * them. Everything else (cluster-scoped objects, objects in namespaces that stay) is waited for now.
 */
export function splitDeletionWaits(
  deleted: readonly ObjectKey[],
  deferNamespaces: boolean,
): { waitNow: ObjectKey[]; deferred: ObjectKey[] } {
  if (!deferNamespaces) return { waitNow: [...deleted], deferred: [] };
  const deferred = deleted.filter(isNamespace);
  const names = new Set(deferred.map((k) => k.name));
  return { waitNow: deleted.filter((k) => !isNamespace(k) && !(k.namespace !== undefined && names.has(k.namespace))), deferred };
}

/** An object a cleanup deleted that was still there when its wait ended, and what it looked like then. */
export interface StillPresent {
  key: ObjectKey;
  /** e.g. `Terminating, finalizers [example.com/hold]`, or `not deleted` */
  state: string;
}

/** What a deleted object still present shows: whether it is Terminating, and the finalizers that hold it. */
export function presentState(obj: { metadata?: { deletionTimestamp?: unknown; finalizers?: string[] } }): string {
  const fins = obj.metadata?.finalizers ?? [];
  return `${obj.metadata?.deletionTimestamp ? 'Terminating' : 'not deleted'}${fins.length ? `, finalizers [${fins.join(', ')}]` : ''}`;
}

/** One line for objects still present: `Namespace/x (Terminating, finalizers [...])`, the first five and a count. */
export function describeStillPresent(left: readonly StillPresent[]): string {
  const shown = left.slice(0, 5).map((l) => `${l.key.kind}/${l.key.name}${l.key.namespace ? ` -n ${l.key.namespace}` : ''} (${l.state})`);
  return shown.join(', ') + (left.length > 5 ? ` and ${left.length - 5} more` : '');
}

/**
 * A cleanup reports a deletion ok only once it saw the object gone: the delete of each object still present when
 * the wait ended (a finalizer nobody removes, a stuck namespace controller) turns into a failure that says so.
 */
export function markNotGone(outcomes: readonly CleanupOutcome[], left: readonly StillPresent[], after: string): CleanupOutcome[] {
  const byKey = new Map(left.map((l) => [keyString(l.key), l]));
  return outcomes.map((o) => {
    const l = o.ok && o.action.type === 'delete' ? byKey.get(keyString(o.action.ref)) : undefined;
    return l ? { ...o, ok: false, detail: `${o.detail}, but still present ${after}: ${l.state}` } : o;
  });
}

/** The namespaces a cleanup deletes: its delete actions of v1 Namespaces (namespaces the run created). */
export function namespacesToDelete(actions: readonly CleanupAction[]): string[] {
  return actions.filter((a) => a.type === 'delete' && isNamespace(a.ref)).map((a) => (a as { ref: ObjectKey }).ref.name);
}

/**
 * The deleted namespace an action's object lives in, if any: deleting, restoring or re-creating an object
 * there is moot once its namespace is deleted, since the namespace controller deletes everything in it
 * (on a real cluster and in the twin), the way `kubectl delete namespace` cleans up.
 */
export function foldedInto(action: CleanupAction, deletedNamespaces: ReadonlySet<string>): string | undefined {
  const ref = action.type === 'recreate' ? action.object : action.ref;
  return !isNamespace(ref) && ref.namespace !== undefined && deletedNamespaces.has(ref.namespace) ? ref.namespace : undefined;
}

/**
 * Set only on actions read back from a journal on disk: the paths of credential values the journal did not
 * keep (a Secret's data, a secret-named field, an env var like HF_TOKEN). Such an action cannot be undone
 * from the journal; recovery reports it instead of writing an incomplete object.
 */
interface Omissions {
  omitted?: string[];
}

/** What a run must undo. Registered at the moment the change is made, undone last-in first-out. */
export type CleanupAction =
  | ({ type: 'delete'; ref: ObjectKey } & Omissions)
  /** Merge-patch the object back: `patch` holds the previous values of exactly the fields the run changed. */
  | ({ type: 'restore'; ref: ObjectKey; patch: Record<string, unknown> } & Omissions)
  /** Re-create an object the run deleted (e.g. a bare pod killed by chaos), from its manifest. */
  | ({ type: 'recreate'; object: Record<string, unknown> & ObjectKey } & Omissions);

export interface CleanupOutcome {
  action: CleanupAction;
  ok: boolean;
  detail: string;
}

export type CleanupExecutor = (action: CleanupAction) => Promise<string>;

interface Journal {
  pid: number;
  startedAt: string;
  kubeconfigPath: string;
  actions: CleanupAction[];
}

/**
 * The registry keeps a journal on disk as it goes, so that a run killed with SIGKILL leaves enough
 * behind for the next run to undo what it changed (`recoverOrphanJournals`).
 */
export class CleanupRegistry {
  private readonly actions: CleanupAction[] = [];
  private running?: Promise<CleanupOutcome[]>;

  constructor(
    private readonly kubeconfigPath: string,
    private readonly journalFile?: string,
  ) {}

  add(action: CleanupAction): void {
    if (this.running) throw new Error('cleanup already started: nothing more can be registered');
    this.actions.push(action);
    this.persist();
  }

  /** Forget a registered deletion (the object is already gone, e.g. deleted by the test itself). */
  get pending(): readonly CleanupAction[] {
    return this.actions;
  }

  /** Undo everything, last first. Idempotent: a second call returns the first call's outcome. */
  run(execute: CleanupExecutor): Promise<CleanupOutcome[]> {
    this.running ??= this.runOnce(execute);
    return this.running;
  }

  private async runOnce(execute: CleanupExecutor): Promise<CleanupOutcome[]> {
    const outcomes: CleanupOutcome[] = [];
    while (this.actions.length > 0) {
      const action = this.actions[this.actions.length - 1]!;
      try {
        outcomes.push({ action, ok: true, detail: await execute(action) });
      } catch (err) {
        outcomes.push({ action, ok: false, detail: (err as Error).message.split('\n')[0] ?? 'failed' });
      }
      this.actions.pop();
      this.persist();
    }
    if (this.journalFile && outcomes.every((o) => o.ok)) rmSync(this.journalFile, { force: true });
    return outcomes;
  }

  private persist(): void {
    if (!this.journalFile) return;
    const journal: Journal = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      kubeconfigPath: this.kubeconfigPath,
      actions: this.actions.map(journalCopy),
    };
    writeFileAtomic(this.journalFile, JSON.stringify(journal, null, 2), 0o600);
  }
}

/**
 * The copy of an action that goes to disk: everything restore needs except credential material. A
 * Secret's `data` / `stringData`, the value of a secret-named key, a `{ name: HF_TOKEN, value }` pair's
 * value and any string the redactor would change are left out, and their paths listed in `omitted`.
 */
export function journalCopy(action: CleanupAction): CleanupAction {
  if (action.type === 'delete') return action;
  const omitted: string[] = [];
  const kind = action.type === 'restore' ? action.ref.kind : action.object.kind;
  const body = action.type === 'restore' ? action.patch : action.object;
  const clean = scrub(body, [], omitted, kind === 'Secret') as Record<string, unknown>;
  if (omitted.length === 0) return action;
  return action.type === 'restore'
    ? { ...action, patch: clean, omitted }
    : { ...action, object: { ...(clean as Record<string, unknown> & ObjectKey), ...refFields(action.object) }, omitted };
}

function refFields(o: ObjectKey): ObjectKey {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.name, ...(o.namespace ? { namespace: o.namespace } : {}) };
}

function scrub(value: unknown, path: string[], omitted: string[], secretKind: boolean): unknown {
  if (typeof value === 'string') {
    if (redact(value) === value) return value;
    omitted.push(path.join('.'));
    return undefined;
  }
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v, i) => scrub(v, [...path, String(i)], omitted, false));
  const obj = value as Record<string, unknown>;
  const pairName = typeof obj.name === 'string' && 'value' in obj && isSecretKey(obj.name);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const here = [...path, k];
    const credential =
      (secretKind && path.length === 0 && (k === 'data' || k === 'stringData')) ||
      (isSecretKey(k) && typeof v === 'string') ||
      (pairName && k === 'value');
    if (credential && v !== null && v !== undefined) {
      omitted.push(here.join('.'));
      continue;
    }
    const s = scrub(v, here, omitted, false);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

export interface OrphanJournal {
  file: string;
  pid: number;
  kubeconfigPath: string;
  actions: CleanupAction[];
}

/** Journals of runs whose process is gone without cleaning up. */
export function findOrphanJournals(dir: string): OrphanJournal[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.journal.json'));
  } catch {
    return [];
  }
  const out: OrphanJournal[] = [];
  for (const f of files) {
    const file = join(dir, f);
    try {
      const j = JSON.parse(readFileSync(file, 'utf8')) as Journal;
      if (j.pid !== process.pid && !isPidAlive(j.pid)) out.push({ file, ...j });
    } catch {
      // a half-written journal of a run killed mid-write: nothing usable in it
      rmSync(file, { force: true });
    }
  }
  return out;
}

export function describeAction(a: CleanupAction): string {
  const ref = a.type === 'recreate' ? a.object : a.ref;
  const what = `${ref.kind}/${ref.name}${ref.namespace ? ` in ${ref.namespace}` : ''}`;
  const verb = a.type === 'delete' ? `delete ${what}` : a.type === 'restore' ? `restore ${what}` : `re-create ${what}`;
  return a.omitted?.length ? `${verb} (credential values at ${a.omitted.join(', ')} were not written to the journal)` : verb;
}

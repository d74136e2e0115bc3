import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ObjectKey {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** What a run must undo. Registered at the moment the change is made, undone last-in first-out. */
export type CleanupAction =
  | { type: 'delete'; ref: ObjectKey }
  /** Merge-patch the object back: `patch` holds the previous values of exactly the fields the run changed. */
  | { type: 'restore'; ref: ObjectKey; patch: Record<string, unknown> }
  /** Re-create an object the run deleted (e.g. a bare pod killed by chaos), from its manifest. */
  | { type: 'recreate'; object: Record<string, unknown> & ObjectKey };

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
      actions: this.actions,
    };
    mkdirSync(join(this.journalFile, '..'), { recursive: true });
    const tmp = `${this.journalFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(journal, null, 2));
    renameSync(tmp, this.journalFile);
  }
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
      if (j.pid !== process.pid && !isAlive(j.pid)) out.push({ file, ...j });
    } catch {
      // a half-written journal of a run killed mid-write: nothing usable in it
      rmSync(file, { force: true });
    }
  }
  return out;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function describeAction(a: CleanupAction): string {
  const ref = a.type === 'recreate' ? a.object : a.ref;
  const what = `${ref.kind}/${ref.name}${ref.namespace ? ` in ${ref.namespace}` : ''}`;
  return a.type === 'delete' ? `delete ${what}` : a.type === 'restore' ? `restore ${what}` : `re-create ${what}`;
}

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import { describeAction, findOrphanJournals, type CleanupOutcome, type OrphanJournal } from './cleanup.ts';
import type { Cluster } from './driver.ts';

/**
 * Where runs keep their cleanup journals: one directory under the checkout (the package root, the Playwright
 * child's working directory), the same for the CLI that recovers orphans before a run and for the fixture that
 * writes them during one, wherever the command was started from.
 */
export const JOURNAL_DIR = join(packageRoot(import.meta.url), '.pd-harness', 'journals');

/** What recovery did for one orphan journal (a run that died without cleaning up). */
export interface JournalRecovery {
  file: string;
  pid: number;
  kubeconfigPath: string;
  /** Every action undone (or found already undone), last registered first. */
  outcomes: CleanupOutcome[];
  /** Set when the journal's cluster could not be reached: the journal is kept for the next run. */
  error?: string;
}

/**
 * Finds journals of runs that died without cleaning up (SIGKILL, a crash) and undoes what they recorded:
 * connects with the journal's kubeconfig, runs its actions last first, and removes the journal when all
 * succeeded. A journal whose cluster cannot be reached is left in place and reported.
 */
export async function recoverOrphanJournals(dir: string): Promise<JournalRecovery[]> {
  const out: JournalRecovery[] = [];
  for (const journal of findOrphanJournals(dir)) out.push(await recoverJournal(journal));
  return out;
}

export async function recoverJournal(journal: OrphanJournal): Promise<JournalRecovery> {
  const base = { file: journal.file, pid: journal.pid, kubeconfigPath: journal.kubeconfigPath };
  if (journal.actions.length === 0) {
    rmSync(journal.file, { force: true });
    return { ...base, outcomes: [] };
  }
  if (!existsSync(journal.kubeconfigPath)) {
    // a twin's kubeconfig goes with its state dir: the cluster the run changed no longer exists
    rmSync(journal.file, { force: true });
    return {
      ...base,
      outcomes: [],
      error: `kubeconfig ${journal.kubeconfigPath} no longer exists: nothing can be undone (journal removed)`,
    };
  }
  // loaded here, not at the top: every `pd-harness run` looks for orphan journals first, and the driver (client-node)
  // is ~0.25 s of CPU to load when there is none to recover
  const { Cluster } = await import('./driver.ts');
  let cluster: Cluster;
  try {
    cluster = await Cluster.connect({ kubeconfigPath: journal.kubeconfigPath });
  } catch (err) {
    return {
      ...base,
      outcomes: [],
      error: `cannot reach the cluster of ${journal.kubeconfigPath}: ${(err as Error).message.split('\n')[0]}`,
    };
  }
  // an action whose credential values the journal left out cannot be undone from it: say so, write nothing
  const incomplete: CleanupOutcome[] = journal.actions
    .filter((a) => a.omitted?.length)
    .map((action) => ({ action, ok: false, detail: 'not undone: the journal does not keep credential values; restore them by hand' }));
  for (const action of journal.actions) if (!action.omitted?.length) cluster.cleanup.add(action);
  const outcomes = [...(await cluster.teardown()), ...incomplete];
  if (outcomes.every((o) => o.ok)) rmSync(journal.file, { force: true });
  return { ...base, outcomes };
}

/** A readable report: one block per journal, one line per action. */
export function formatRecoveryReport(recoveries: readonly JournalRecovery[]): string {
  if (recoveries.length === 0) return '';
  const lines: string[] = [];
  for (const r of recoveries) {
    lines.push(`orphan journal ${r.file} (run pid ${r.pid}, kubeconfig ${r.kubeconfigPath}):`);
    if (r.error) lines.push(`  NOT RECOVERED: ${r.error}${/journal removed/.test(r.error) ? '' : ' (journal kept)'}`);
    if (!r.error && r.outcomes.length === 0) lines.push('  nothing left to undo');
    for (const o of r.outcomes) lines.push(`  ${o.ok ? 'ok    ' : 'FAILED'} ${describeAction(o.action)}: ${o.detail}`);
  }
  return `${lines.join('\n')}\n`;
}

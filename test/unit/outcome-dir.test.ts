import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeOutcomeDir, sweepOutcomeDirs } from '../../runner/outcome-dir.ts';

/**
 * `pd-harness run` hands its Playwright child a directory for the outcome file and removes it when the run ends.
 * A run killed with SIGKILL cannot: the next run removes what dead runs left, and nothing else.
 */
test("a run's outcome dir is named after its process; the next run removes dead runs' dirs and leaves the rest", () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pdh-outcome-test-'));
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(dead.stdout);
    expect(deadPid).toBeGreaterThan(0);
    const left = path.join(base, `pdh-outcome-${deadPid}-AbC123`);
    fs.mkdirSync(left);
    fs.writeFileSync(path.join(left, 'outcome.jsonl'), '{"suite":"s","verdicts":[]}\n');
    const live = path.join(base, `pdh-outcome-${process.pid}-xYz789`); // a run still going (this process)
    const foreign = path.join(base, `pdh-outcome-notapid`); // not ours by name: never touched
    const other = path.join(base, 'unrelated');
    for (const d of [live, foreign, other]) fs.mkdirSync(d);

    const mine = makeOutcomeDir(base);
    expect(path.basename(mine)).toMatch(new RegExp(`^pdh-outcome-${process.pid}-[A-Za-z0-9]{6}$`));
    expect(fs.existsSync(left), "a SIGKILLed run's dir").toBe(false);
    for (const d of [live, foreign, other, mine]) expect(fs.existsSync(d), d).toBe(true);
    // the liveness check decides: with every pid dead, this process's dirs go too
    expect(sweepOutcomeDirs(base, () => false).sort()).toEqual([live, mine].sort());
    expect(fs.readdirSync(base).sort()).toEqual(['pdh-outcome-notapid', 'unrelated']);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});
